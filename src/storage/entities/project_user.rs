use sea_orm::entity::prelude::*;

/// A user's roles on a project.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project_users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_uuid: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub member: bool,
    pub spectator: bool,
    pub manager: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
