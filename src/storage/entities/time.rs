use sea_orm::entity::prelude::*;

/// One revision of a time entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "times")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub uuid: String,
    pub revision: i32,
    pub newest: bool,
    pub user_id: i64,
    pub project_uuid: String,
    pub duration: i32,
    pub notes: Option<String>,
    pub issue_uri: Option<String>,
    pub date_worked: Date,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub sort_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
