//! SCIM, named in `dormant.toml` (`kind = "scim"`) but not supported by
//! this version: its table is checked, and a fetch says what is supported.

use super::platform::{Keys, Own, RuleCheck, Supply, Table};
use super::{Connection, Connector, Error, Fetched, Platform};
use crate::diagnostic::Diag;
use crate::fields::Field;
use crate::progress::Progress;

/// A `scim` connector's own keys.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScimKeys {
    /// The variable holding the bearer token.
    pub token_env: String,
}

/// SCIM in `dormant.toml`: `kind = "scim"`.
pub struct ScimPlatform;

impl Platform for ScimPlatform {
    fn kind(&self) -> &'static str {
        "scim"
    }

    fn name(&self) -> &'static str {
        "SCIM"
    }

    fn keys(&self) -> Keys {
        Keys {
            required: &["url", "token_env"],
            own: &[],
            retired: &[],
            limits: true,
        }
    }

    fn configure(&self, _c: &mut Connector, table: &Table) -> Result<Own, Diag> {
        Ok(Own::new(table.own::<ScimKeys>()?))
    }

    fn revokes(&self) -> bool {
        false
    }

    fn connect(&self, c: &Connector) -> Result<Box<dyn Connection>, Error> {
        Err(super::platform::cannot_act(c))
    }

    fn fetch(&self, c: &Connector, _progress: &Progress) -> Result<Fetched, Error> {
        let supported: Vec<&str> = super::PLATFORMS
            .iter()
            .map(|p| p.kind())
            .filter(|k| *k != self.kind())
            .collect();
        Err(Error::Unsupported {
            connector: c.name.clone(),
            kind: self.kind(),
            supported: supported.join(", "),
        })
    }

    fn acts(&self) -> bool {
        false
    }

    fn attrs(&self) -> &'static [&'static str] {
        &[]
    }

    /// Nothing is fetched, so nothing is said about fields.
    fn supplies(&self, _c: &Connector, _field: &Field, _own: &dyn Fn(&Field) -> bool) -> Supply {
        Supply::Supplied
    }

    fn check_rule(&self, _c: &Connector, _rule: &RuleCheck<'_>) -> Vec<Diag> {
        Vec::new()
    }
}
