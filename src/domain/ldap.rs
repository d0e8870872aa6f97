//! LDAP authentication (placeholder until the LDAP work lands).

use crate::config::LdapConfig;
use crate::error::Result;

/// True when the directory accepts `password` for the entry with `uid=username`.
pub async fn authenticate(_config: &LdapConfig, _username: &str, _password: &str) -> Result<bool> {
    Ok(false)
}
