//! Connectors: where users come from. The built-in `file` connector reads a
//! users file; platform connectors come with their own modules.

pub mod file;
pub mod record;
