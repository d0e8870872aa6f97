use sea_orm::entity::prelude::*;

/// The running timer of one user (at most one: the user is the key).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "timers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub project_uuid: String,
    pub notes: Option<String>,
    pub issue_uri: Option<String>,
    /// Milliseconds since the epoch.
    pub started_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
