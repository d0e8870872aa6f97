use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// As created (shown to clients).
    pub username: String,
    /// Lower-cased, unique: lookups are case-insensitive.
    pub username_key: String,
    /// bcrypt hash; `None` for accounts that log in through LDAP only.
    pub password: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub site_spectator: bool,
    pub site_manager: bool,
    pub site_admin: bool,
    pub active: bool,
    pub meta: Option<String>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub deleted_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
