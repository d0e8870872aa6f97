use sea_orm::entity::prelude::*;

/// One revision of an activity.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub uuid: String,
    pub revision: i32,
    /// True on the current revision only.
    pub newest: bool,
    pub name: String,
    /// The slug this revision had; `None` on a deleted current revision.
    pub slug: Option<String>,
    /// Set on the current, undeleted revision only (unique: slug ownership).
    pub live_slug: Option<String>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub sort_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
