//! Keeps the secrets a client holds out of every text it words: an error
//! body, a platform's message, a redirect's address. A platform may echo a
//! secret back in any form, so each is looked for as it is and as the
//! common encodings write it; and a platform may print only part of one, or
//! dormant may cut a message in the middle of one, so any run of `WINDOW`
//! bytes of a secret is blanked, not only the whole.
//!
//! What is found, for each secret of `SHORTEST` bytes or more:
//! - the secret as it is;
//! - percent-encoded, any characters of it (some or all, upper or lower case
//!   hex), `+` read either as itself or as a space (form encoding);
//! - JSON-escaped (`\/`, `\"`, `\\`, `\uXXXX` with surrogate pairs, `\n`…);
//! - base64, standard and URL-safe, padded or not: of the secret alone, and
//!   of the secret inside a larger blob (`user:secret` Basic credentials)
//!   wherever it starts, through the characters that only its bytes decide.
//!
//! What is not: other encodings (hex, HTML entities, double percent-encoding,
//! base64 of base64, compressed or encrypted text); fragments shorter than
//! `WINDOW` bytes (at most 7 bytes of a secret can show, where a platform
//! cuts it or at the edges of a base64 blob, each base64 edge character
//! carrying a few bits of it); secrets shorter than `SHORTEST` bytes.
//!
//! The work is linear in the text: each form's windows go in a hash set once,
//! when the secret is added; a text is read once per view (as it is,
//! percent-decoded two ways, JSON-unescaped), each view built only when the
//! text holds the character that introduces its escapes.

use rustc_hash::FxHashSet;

/// What stands in for a secret.
pub const MARK: &str = "[secret]";

/// Any run of this many bytes of a secret is blanked. Eight bytes of a
/// random key are far too many to occur by chance in a message, and a
/// secret shows no more than seven bytes anywhere.
const WINDOW: usize = 8;

/// Shorter secrets are never looked for: blanking every three-letter run
/// that matches one would blank ordinary words and tell nothing.
const SHORTEST: usize = 4;

/// The secrets one client holds, in every form looked for.
#[derive(Default)]
pub struct Redactor {
    secrets: Vec<String>,
    /// Every `WINDOW`-byte run of every form of a secret that long.
    windows: FxHashSet<u64>,
    /// Forms shorter than `WINDOW`, matched whole.
    whole: Vec<Vec<u8>>,
    /// Whether a secret holds a space, which form encoding writes `+`.
    spaced: bool,
}

impl Redactor {
    /// Looks for `secret` from now on.
    pub fn add(&mut self, secret: &str) {
        if secret.len() < SHORTEST || self.secrets.iter().any(|s| s == secret) {
            return;
        }
        self.secrets.push(secret.to_string());
        self.spaced |= secret.contains(' ');
        for form in forms(secret.as_bytes()) {
            if form.len() >= WINDOW {
                self.windows.extend(form.windows(WINDOW).filter_map(key));
            } else if form.len() >= SHORTEST && !self.whole.contains(&form) {
                self.whole.push(form);
            }
        }
    }

    /// `text` with every secret found in it blanked.
    pub fn redact(&self, text: &str) -> String {
        if self.secrets.is_empty() {
            return text.to_string();
        }
        let raw = text.as_bytes();
        let mut spans = Vec::new();
        self.find(raw, |i, j| (i, j), &mut spans);
        // Each view only where it can differ from the text as it is.
        let mut views = Vec::new();
        let percent = raw.contains(&b'%');
        if percent {
            views.push(View::percent(raw, false));
        }
        if self.spaced && (percent || raw.contains(&b'+')) {
            views.push(View::percent(raw, true));
        }
        if raw.contains(&b'\\') {
            views.push(View::json(raw));
        }
        for v in &views {
            self.find(&v.bytes, |i, j| v.source(i, j, raw.len()), &mut spans);
        }
        mask(text, spans)
    }

    /// The spans of `bytes` that hold a secret, as `map` turns them into
    /// spans of the original text.
    fn find(&self, bytes: &[u8], map: impl Fn(usize, usize) -> (usize, usize), spans: &mut Vec<(usize, usize)>) {
        // Consecutive matching windows make one span.
        let mut run: Option<(usize, usize)> = None;
        for (i, w) in bytes.windows(WINDOW).enumerate() {
            if !key(w).is_some_and(|k| self.windows.contains(&k)) {
                continue;
            }
            run = match run {
                Some((start, end)) if i <= end => Some((start, i + WINDOW)),
                other => {
                    spans.extend(other.map(|(s, e)| map(s, e)));
                    Some((i, i + WINDOW))
                }
            };
        }
        spans.extend(run.map(|(s, e)| map(s, e)));
        for needle in &self.whole {
            for (i, w) in bytes.windows(needle.len()).enumerate() {
                if w == needle.as_slice() {
                    spans.push(map(i, i + needle.len()));
                }
            }
        }
    }
}

fn key(window: &[u8]) -> Option<u64> {
    <[u8; WINDOW]>::try_from(window).ok().map(u64::from_le_bytes)
}

/// `text` with each span (widened to whole characters, overlaps merged)
/// replaced by `MARK`.
fn mask(text: &str, mut spans: Vec<(usize, usize)>) -> String {
    if spans.is_empty() {
        return text.to_string();
    }
    for (s, e) in &mut spans {
        while *s > 0 && !text.is_char_boundary(*s) {
            *s -= 1;
        }
        while *e < text.len() && !text.is_char_boundary(*e) {
            *e += 1;
        }
    }
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match merged.last_mut() {
            // Overlapping or touching the span before: one mark for both.
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in merged {
        out.push_str(text.get(at..s).unwrap_or_default());
        out.push_str(MARK);
        at = e;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

/// Every form of a secret looked for as bytes (the escaped forms are found
/// through the views instead).
fn forms(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = vec![secret.to_vec()];
    let alone = base64(secret);
    // Padded too, so that no `=` is left beside the mark.
    let mut padded = alone.clone();
    padded.resize(alone.len().div_ceil(4) * 4, b'=');
    forms.push(padded);
    // Inside a larger blob, the secret's first byte falls on any of the
    // three bytes of a base64 group: what its bytes alone decide differs.
    let within = (1..3).filter_map(|offset| embedded(secret, offset));
    for b64 in std::iter::once(alone).chain(within) {
        let url_safe = b64
            .iter()
            .map(|&c| match c {
                b'+' => b'-',
                b'/' => b'_',
                c => c,
            })
            .collect();
        forms.push(b64);
        forms.push(url_safe);
    }
    forms
}

/// The characters of the base64 of a blob in which `secret` starts at byte
/// `offset` (of its 3-byte group) that depend on the secret's bytes alone.
fn embedded(secret: &[u8], offset: usize) -> Option<Vec<u8>> {
    let mut blob = vec![0; offset];
    blob.extend_from_slice(secret);
    let encoded = base64(&blob);
    // Character i holds bits 6i..6i+6; the secret's are 8·offset.. its end.
    let first = (8 * offset).div_ceil(6);
    let last = 8 * (offset + secret.len()) / 6;
    encoded.get(first..last).map(<[u8]>::to_vec)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64, standard alphabet, without padding: a padded one holds it.
fn base64(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let group = byte(0) << 16 | byte(1) << 8 | byte(2);
        // 1 byte makes 2 characters, 2 make 3, 3 make 4.
        for k in 0..=chunk.len() {
            let index = (group >> (18 - 6 * k)) & 63;
            out.extend(ALPHABET.get(index as usize));
        }
    }
    out
}

/// A text with its escapes decoded, each byte remembering where in the
/// original text the escape that made it starts.
struct View {
    bytes: Vec<u8>,
    starts: Vec<usize>,
}

impl View {
    fn push(&mut self, bytes: &[u8], start: usize) {
        self.bytes.extend_from_slice(bytes);
        self.starts.extend(std::iter::repeat_n(start, bytes.len()));
    }

    /// The original span that bytes `i..j` of the view were decoded from:
    /// from the start of byte i's escape to the end of byte j-1's.
    fn source(&self, i: usize, j: usize, len: usize) -> (usize, usize) {
        let start = self.starts.get(i).copied().unwrap_or(len);
        let last = j
            .checked_sub(1)
            .and_then(|k| self.starts.get(k))
            .copied()
            .unwrap_or(len);
        // The next escape's start, or the end of the text: an escape makes
        // at most four bytes, so this looks at a few.
        let end = self
            .starts
            .get(j..)
            .and_then(|rest| rest.iter().find(|&&s| s > last))
            .copied()
            .unwrap_or(len);
        (start, end)
    }

    /// `%XX` decoded (either case of hex), and `+` as a space when `plus`.
    fn percent(text: &[u8], plus: bool) -> View {
        let mut v = View {
            bytes: Vec::with_capacity(text.len()),
            starts: Vec::with_capacity(text.len()),
        };
        let mut i = 0;
        while let Some(&b) = text.get(i) {
            let hex = |k: usize| text.get(i + k).and_then(|c| (*c as char).to_digit(16));
            match (b, hex(1), hex(2)) {
                (b'%', Some(h), Some(l)) => {
                    v.push(&[(h * 16 + l) as u8], i);
                    i += 3;
                }
                (b'+', ..) if plus => {
                    v.push(b" ", i);
                    i += 1;
                }
                _ => {
                    v.push(&[b], i);
                    i += 1;
                }
            }
        }
        v
    }

    /// JSON string escapes decoded; a lone surrogate becomes U+FFFD.
    fn json(text: &[u8]) -> View {
        let mut v = View {
            bytes: Vec::with_capacity(text.len()),
            starts: Vec::with_capacity(text.len()),
        };
        let mut i = 0;
        while let Some(&b) = text.get(i) {
            let (decoded, width) = match (b, text.get(i + 1)) {
                (b'\\', Some(b'u')) => unicode(text, i),
                (b'\\', Some(&e)) => match e {
                    b'"' | b'\\' | b'/' => (Some(char::from(e)), 2),
                    b'b' => (Some('\u{8}'), 2),
                    b'f' => (Some('\u{c}'), 2),
                    b'n' => (Some('\n'), 2),
                    b'r' => (Some('\r'), 2),
                    b't' => (Some('\t'), 2),
                    _ => (None, 1),
                },
                _ => (None, 1),
            };
            match decoded {
                Some(c) => v.push(c.encode_utf8(&mut [0; 4]).as_bytes(), i),
                None => v.push(&[b], i),
            }
            i += width;
        }
        v
    }
}

/// The character a `\uXXXX` escape at `i` makes (with the low half of a
/// surrogate pair that follows), and how many bytes it takes; `None` and 1
/// when it is not one.
fn unicode(text: &[u8], i: usize) -> (Option<char>, usize) {
    let unit = |at: usize| -> Option<u32> {
        let digits = text.get(at + 2..at + 6)?;
        let digits = std::str::from_utf8(digits).ok()?;
        u32::from_str_radix(digits, 16).ok()
    };
    let Some(high) = unit(i) else { return (None, 1) };
    if (0xD800..0xDC00).contains(&high) {
        let low = (text.get(i + 6) == Some(&b'\\') && text.get(i + 7) == Some(&b'u'))
            .then(|| unit(i + 6))
            .flatten()
            .filter(|l| (0xDC00..0xE000).contains(l));
        if let Some(low) = low {
            let c = char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00));
            return (c.or(Some(char::REPLACEMENT_CHARACTER)), 12);
        }
    }
    (Some(char::from_u32(high).unwrap_or(char::REPLACEMENT_CHARACTER)), 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dk_live+7Fq/2x=Vb9 pL3mZ8wR4tY0é";

    fn redactor() -> Redactor {
        let mut r = Redactor::default();
        r.add(KEY);
        r
    }

    /// No run of 8 bytes of the key, nor of its encoding, is left.
    fn clean(text: &str, encoded: &str) {
        for w in KEY.as_bytes().windows(WINDOW).chain(encoded.as_bytes().windows(WINDOW)) {
            assert!(
                !text.as_bytes().windows(WINDOW).any(|t| t == w),
                "{:?} left in {text}",
                String::from_utf8_lossy(w)
            );
        }
    }

    fn percent(text: &str, keep: &str, lower: bool) -> String {
        text.bytes()
            .map(|b| match b {
                b if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) => char::from(b).to_string(),
                b if lower => format!("%{b:02x}"),
                b => format!("%{b:02X}"),
            })
            .collect()
    }

    #[test]
    fn the_key_in_every_form_is_blanked_and_the_rest_stays() {
        let r = redactor();
        let b64 = String::from_utf8(base64(KEY.as_bytes())).unwrap();
        let forms = [
            KEY.to_string(),
            percent(KEY, "", false),
            percent(KEY, "", true),
            percent(KEY, "-_.~+/=", false),
            percent(KEY, "", false).replace("%20", "+"),
            b64.clone(),
            b64.replace('+', "-").replace('/', "_"),
            serde_json::to_string(KEY)
                .unwrap()
                .replace('/', "\\/")
                .trim_matches('"')
                .to_string(),
            KEY.chars().map(|c| format!("\\u{:04x}", c as u32)).collect(),
        ];
        for form in forms {
            let text = format!("before {form} after");
            let out = r.redact(&text);
            assert_eq!(out, format!("before {MARK} after"), "{form}");
        }
    }

    #[test]
    fn base64_of_the_key_inside_a_blob_is_blanked_at_any_offset() {
        let r = redactor();
        for user in ["", "a:", "ab:", "abc:", "admin:"] {
            let blob = String::from_utf8(base64(format!("{user}{KEY}").as_bytes())).unwrap();
            let out = r.redact(&format!("Basic {blob}=="));
            assert!(out.contains(MARK), "{user}: {out}");
            // What encodes the key (after the user's characters, before the
            // last one) is gone.
            let from = (user.len() * 8).div_ceil(6) + 1;
            let key_part = &blob[from..blob.len() - 1];
            for w in key_part.as_bytes().windows(WINDOW) {
                assert!(!out.as_bytes().windows(WINDOW).any(|t| t == w), "{user}: {out}");
            }
        }
    }

    #[test]
    fn part_of_the_key_is_blanked_and_the_cut_leaves_no_run_of_it() {
        let r = redactor();
        let out = r.redact(&format!("key {}… is invalid", &KEY[..12]));
        assert_eq!(out, format!("key {MARK}… is invalid"));
        clean(&r.redact(&format!("{}{}", "x".repeat(170), KEY)), "");
    }

    #[test]
    fn base64_padding_goes_with_the_mark() {
        let secret = "a-secret-of-32-bytes-0123456789x";
        let mut r = Redactor::default();
        r.add(secret);
        let b64 = String::from_utf8(base64(secret.as_bytes())).unwrap();
        assert_eq!(r.redact(&format!("({b64}=)")), format!("({MARK})"));
    }

    #[test]
    fn short_secrets_whole_and_tiny_ones_not_at_all() {
        let mut r = Redactor::default();
        r.add("tok-1");
        r.add("ab");
        assert_eq!(r.redact("tok-1 and tok-2, ab"), format!("{MARK} and tok-2, ab"));
        assert_eq!(Redactor::default().redact("anything"), "anything");
    }

    #[test]
    fn unescaped_text_and_bad_escapes_come_through_whole() {
        let r = redactor();
        for text in ["100% sure + more", "a \\q \\u12 \\ud800 end \\", "%zz %4", "ünïcödé"] {
            assert_eq!(r.redact(text), text);
        }
    }

    #[test]
    fn base64_matches_a_known_encoding() {
        assert_eq!(base64(b"user:pass"), b"dXNlcjpwYXNz");
        assert_eq!(base64(b"ab"), b"YWI");
        assert_eq!(base64(b"a"), b"YQ");
    }
}
