use sea_orm::entity::prelude::*;

/// One revision of a project. Slugs and members belong to the project
/// (by uuid), not to a revision.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub uuid: String,
    pub revision: i32,
    pub newest: bool,
    pub name: String,
    pub uri: Option<String>,
    /// Uuid of the default activity.
    pub default_activity: Option<String>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub sort_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
