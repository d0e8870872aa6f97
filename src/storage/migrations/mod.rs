//! Schema migrations, embedded in the binary and written in the portable
//! sea-query DSL so that SQLite, PostgreSQL and MySQL/MariaDB get the same
//! logical schema.

use sea_orm_migration::prelude::*;

mod change_counters;
mod m20261122_000001_initial;
mod m20261122_000002_lookup_indexes;
mod m20261201_000001_timers_and_api_tokens;
mod m20261202_000002_changes_since;
mod m20261202_000003_catalogue_version;
mod m20261202_000004_time_indexes;
mod m20261203_000001_times_version;
mod m20261204_000001_drop_idx_times_user;
mod m20261205_000001_time_indexes_at_scale;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261122_000002_lookup_indexes::Migration),
            Box::new(m20261201_000001_timers_and_api_tokens::Migration),
            Box::new(m20261202_000002_changes_since::Migration),
            Box::new(m20261202_000003_catalogue_version::Migration),
            Box::new(m20261202_000004_time_indexes::Migration),
            Box::new(m20261203_000001_times_version::Migration),
            Box::new(m20261204_000001_drop_idx_times_user::Migration),
            Box::new(m20261205_000001_time_indexes_at_scale::Migration),
        ]
    }
}
