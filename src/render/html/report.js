// The decisions table: rows come from the inline JSON (#plan-data) and are
// drawn a page at a time, so that a plan of a million users stays usable.
// Each row: [user, action index, rule index, explanation or 0].
(function () {
  "use strict";
  var el = document.getElementById("plan-data");
  if (!el) { return; }
  var data = JSON.parse(el.textContent);
  var rows = data.rows, actions = data.actions, rules = data.rules;
  var PAGE = 100;
  var q = document.getElementById("f-text");
  var fa = document.getElementById("f-action");
  var fr = document.getElementById("f-rule");
  var body = document.getElementById("decisions-body");
  var count = document.getElementById("f-count");
  var prev = document.getElementById("f-prev");
  var next = document.getElementById("f-next");
  var matching = [];
  var page = 0;

  function option(select, text, value) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    select.appendChild(o);
  }
  actions.forEach(function (a, i) { option(fa, a, String(i)); });
  rules.forEach(function (r, i) { option(fr, r, String(i)); });

  function filter() {
    var text = q.value.trim().toLowerCase();
    var a = fa.value === "" ? -1 : Number(fa.value);
    var r = fr.value === "" ? -1 : Number(fr.value);
    matching = [];
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      if (a >= 0 && row[1] !== a) { continue; }
      if (r >= 0 && row[2] !== r) { continue; }
      if (text && row[0].toLowerCase().indexOf(text) < 0 &&
          (rules[row[2]] || "").toLowerCase().indexOf(text) < 0 &&
          !(row[3] && row[3].toLowerCase().indexOf(text) >= 0)) { continue; }
      matching.push(i);
    }
    page = 0;
    draw();
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) {
      var span = document.createElement("span");
      span.className = cls;
      span.textContent = text;
      td.appendChild(span);
    } else {
      td.textContent = text;
    }
    tr.appendChild(td);
    return td;
  }

  function toggle(button, tr, row) {
    var open = button.getAttribute("aria-expanded") === "true";
    var shown = tr.nextSibling;
    if (open) {
      if (shown && shown.className === "explanation") { body.removeChild(shown); }
      button.setAttribute("aria-expanded", "false");
      button.textContent = "Explain";
      return;
    }
    var ex = document.createElement("tr");
    ex.className = "explanation";
    var td = document.createElement("td");
    td.colSpan = 4;
    var pre = document.createElement("pre");
    pre.textContent = row[3];
    td.appendChild(pre);
    ex.appendChild(td);
    body.insertBefore(ex, tr.nextSibling);
    button.setAttribute("aria-expanded", "true");
    button.textContent = "Hide";
  }

  function draw() {
    while (body.firstChild) { body.removeChild(body.firstChild); }
    var start = page * PAGE;
    var end = Math.min(start + PAGE, matching.length);
    for (var k = start; k < end; k++) {
      var row = rows[matching[k]];
      var tr = document.createElement("tr");
      var action = actions[row[1]] || "";
      cell(tr, row[0]);
      cell(tr, action, "badge a-" + action.split(" ")[0]);
      cell(tr, rules[row[2]] || "-");
      var td = cell(tr, "");
      if (row[3]) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "explain";
        b.textContent = "Explain";
        b.setAttribute("aria-expanded", "false");
        b.setAttribute("aria-label", "Explain the decision for " + row[0]);
        b.addEventListener("click", toggle.bind(null, b, tr, row));
        td.appendChild(b);
      } else {
        td.textContent = "in the JSON plan";
        td.className = "muted";
      }
      body.appendChild(tr);
    }
    count.textContent = matching.length === 0 ? "No user matches." :
      "Showing " + (start + 1) + "\u2013" + end + " of " + matching.length + " matching users.";
    prev.disabled = page === 0;
    next.disabled = end >= matching.length;
  }

  q.addEventListener("input", filter);
  fa.addEventListener("change", filter);
  fr.addEventListener("change", filter);
  prev.addEventListener("click", function () { if (page > 0) { page--; draw(); } });
  next.addEventListener("click", function () {
    if ((page + 1) * PAGE < matching.length) { page++; draw(); }
  });
  document.getElementById("decisions-ui").hidden = false;
  filter();
})();
