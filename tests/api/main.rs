//! API tests: the real server over HTTP on a real database (see helpers).

mod helpers;

mod activities;
mod api_tokens;
mod calendar;
mod catalogue;
mod compat_filters;
mod compat_paths;
mod compat_texts;
mod foundation;
mod ldap;
mod openapi;
mod org_roles;
mod projects;
mod reports;
mod since;
mod slapd;
mod timers;
mod times;
mod transfer;
mod users;
