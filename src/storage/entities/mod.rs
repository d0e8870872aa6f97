//! SeaORM entities, one per table (see the migration for the conventions).

pub mod activity;
pub mod api_token;
pub mod org_role;
pub mod project;
pub mod project_slug;
pub mod project_user;
pub mod setting;
pub mod time;
pub mod time_activity;
pub mod timer;
pub mod timer_activity;
pub mod user;
pub mod user_org_role;
