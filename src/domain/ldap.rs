//! LDAP authentication: find the directory entry with `uid=<username>`
//! under the search base, then bind as that entry with the password.

use anyhow::{anyhow, Context};
use ldap3::{
    ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry, SearchOptions,
};

use crate::config::LdapConfig;
use crate::error::{Error, Result};

/// What the client hears when the directory cannot be asked; the cause
/// is in the server log.
pub const UNAVAILABLE: &str = crate::error::catalogue::authentication::LDAP_UNAVAILABLE;

/// LDAP result code of a bind with a wrong password (RFC 4511).
const INVALID_CREDENTIALS: u32 = 49;
/// Search result code when more entries matched than the size limit.
const SIZE_LIMIT_EXCEEDED: u32 = 4;

/// True when the directory accepts `password` for the one entry with
/// `uid=username`; false when no single entry matches or the bind is
/// refused. A directory that cannot be reached or answers with errors is
/// logged and reported as an `Authentication failure` that says so.
pub async fn authenticate(config: &LdapConfig, username: &str, password: &str) -> Result<bool> {
    // Many directories take a bind with a DN and an empty password as an
    // anonymous bind and report success: never send one.
    if password.is_empty() || username.is_empty() {
        return Ok(false);
    }
    match verify(config, username, password).await {
        Ok(accepted) => Ok(accepted),
        Err(cause) => {
            tracing::error!(url = %config.url, error = %format!("{cause:#}"), "LDAP directory unavailable");
            Err(Error::authentication(UNAVAILABLE))
        }
    }
}

/// `Ok(false)` for a refusal of the user; `Err` when the directory or its
/// configuration fails.
async fn verify(config: &LdapConfig, username: &str, password: &str) -> anyhow::Result<bool> {
    let mut ldap = connect(config).await?;

    if let Some(dn) = &config.bind_dn {
        let secret = config.bind_password.as_ref().map_or("", |s| s.expose());
        ldap.with_timeout(config.timeout)
            .simple_bind(dn, secret)
            .await
            .context("service bind")?
            .success()
            .with_context(|| format!("service bind as {dn} refused"))?;
    }

    let filter = format!("(uid={})", ldap_escape(username));
    let limits = SearchOptions::new()
        .sizelimit(2)
        .timelimit(i32::try_from(config.timeout.as_secs()).unwrap_or(i32::MAX));
    let found = ldap
        .with_search_options(limits)
        .with_timeout(config.timeout)
        .search(&config.search_base, Scope::Subtree, &filter, vec!["1.1"])
        .await
        .context("search")?;
    let (mut entries, outcome) = (found.0, found.1);
    if outcome.rc != 0 && outcome.rc != SIZE_LIMIT_EXCEEDED {
        return Err(anyhow!(
            "search under {} failed: {outcome}",
            config.search_base
        ));
    }
    if entries.len() != 1 {
        tracing::info!(
            username,
            matches = entries.len(),
            "LDAP login refused: no single entry with this uid"
        );
        return Ok(false);
    }
    let dn = SearchEntry::construct(entries.remove(0)).dn;

    let bound = ldap
        .with_timeout(config.timeout)
        .simple_bind(&dn, password)
        .await
        .context("user bind")?;
    match bound.rc {
        0 => Ok(true),
        INVALID_CREDENTIALS => Ok(false),
        _ => {
            // Locked or expired accounts and the like: a refusal of this user.
            tracing::warn!(%dn, rc = bound.rc, text = %bound.text, "LDAP bind refused");
            Ok(false)
        }
    }
}

/// Opens the connection (with StartTLS when configured) and drives it in
/// the background until the handle is dropped.
async fn connect(config: &LdapConfig) -> anyhow::Result<Ldap> {
    let settings = LdapConnSettings::new()
        .set_conn_timeout(config.timeout)
        .set_starttls(config.starttls);
    let (conn, ldap) = LdapConnAsync::with_settings(settings, &config.url)
        .await
        .with_context(|| format!("connecting to {}", config.url))?;
    tokio::spawn(async move {
        if let Err(e) = conn.drive().await {
            tracing::debug!(error = %e, "LDAP connection closed with an error");
        }
    });
    Ok(ldap)
}
