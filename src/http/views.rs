//! The JSON shapes of the API's objects: serialised and described to the
//! OpenAPI document by the same types, each built from the domain's view.
//! The conversions destructure the domain views whole, so a field added
//! there does not compile until it is shown (or left out) here.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{activities, org_roles, projects, times, users};

/// Converts every view of a list.
pub fn all<D, V: From<D>>(views: Vec<D>) -> Vec<V> {
    views.into_iter().map(V::from).collect()
}

/// An activity in the wire shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityView {
    pub name: String,
    /// `null` once deleted.
    #[schema(required = true)]
    pub slug: Option<String>,
    pub uuid: String,
    pub revision: i32,
    #[schema(format = Date)]
    pub created_at: String,
    #[schema(required = true, format = Date)]
    pub updated_at: Option<String>,
    #[schema(required = true, format = Date)]
    pub deleted_at: Option<String>,
    /// Older revisions, newest first (`include_revisions`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, no_recursion)]
    pub parents: Option<Vec<ActivityView>>,
}

impl From<activities::ActivityView> for ActivityView {
    fn from(view: activities::ActivityView) -> Self {
        let activities::ActivityView {
            name,
            slug,
            uuid,
            revision,
            created_at,
            updated_at,
            deleted_at,
            parents,
        } = view;
        Self {
            name,
            slug,
            uuid,
            revision,
            created_at,
            updated_at,
            deleted_at,
            parents: parents.map(all),
        }
    }
}

/// A user's roles on a project.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Roles {
    pub member: bool,
    pub spectator: bool,
    pub manager: bool,
}

impl From<projects::Roles> for Roles {
    fn from(roles: projects::Roles) -> Self {
        let projects::Roles {
            member,
            spectator,
            manager,
        } = roles;
        Self {
            member,
            spectator,
            manager,
        }
    }
}

/// A project in the wire shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectView {
    pub name: String,
    /// Sorted.
    pub slugs: Vec<String>,
    #[schema(required = true)]
    pub uri: Option<String>,
    /// The default activity's current slug.
    #[schema(required = true)]
    pub default_activity: Option<String>,
    /// Absent on parents (members are not kept per revision).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub users: Option<BTreeMap<String, Roles>>,
    pub uuid: String,
    pub revision: i32,
    #[schema(format = Date)]
    pub created_at: String,
    #[schema(required = true, format = Date)]
    pub updated_at: Option<String>,
    #[schema(required = true, format = Date)]
    pub deleted_at: Option<String>,
    /// Older revisions, newest first (`include_revisions`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, no_recursion)]
    pub parents: Option<Vec<ProjectView>>,
}

impl From<projects::ProjectView> for ProjectView {
    fn from(view: projects::ProjectView) -> Self {
        let projects::ProjectView {
            name,
            slugs,
            uri,
            default_activity,
            users,
            uuid,
            revision,
            created_at,
            updated_at,
            deleted_at,
            parents,
        } = view;
        Self {
            name,
            slugs,
            uri,
            default_activity,
            users: users.map(|u| u.into_iter().map(|(k, r)| (k, r.into())).collect()),
            uuid,
            revision,
            created_at,
            updated_at,
            deleted_at,
            parents: parents.map(all),
        }
    }
}

/// A time as shown on the wire.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeView {
    pub duration: i32,
    /// The username as stored.
    pub user: String,
    /// The current slugs of the project, sorted (empty once it is deleted).
    pub project: Vec<String>,
    /// The current slugs of the activities, sorted; deleted activities have
    /// no slug and are left out.
    pub activities: Vec<String>,
    #[schema(required = true)]
    pub notes: Option<String>,
    #[schema(required = true)]
    pub issue_uri: Option<String>,
    #[schema(format = Date)]
    pub date_worked: String,
    pub revision: i32,
    pub uuid: String,
    #[schema(format = Date)]
    pub created_at: String,
    #[schema(required = true, format = Date)]
    pub updated_at: Option<String>,
    #[schema(required = true, format = Date)]
    pub deleted_at: Option<String>,
    /// Older revisions, newest first (only with `include_revisions`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, no_recursion)]
    pub parents: Option<Vec<TimeView>>,
}

impl From<times::TimeView> for TimeView {
    fn from(view: times::TimeView) -> Self {
        let times::TimeView {
            duration,
            user,
            project,
            activities,
            notes,
            issue_uri,
            date_worked,
            revision,
            uuid,
            created_at,
            updated_at,
            deleted_at,
            parents,
        } = view;
        Self {
            duration,
            user,
            project,
            activities,
            notes,
            issue_uri,
            date_worked,
            revision,
            uuid,
            created_at,
            updated_at,
            deleted_at,
            parents: parents.map(all),
        }
    }
}

/// An org-role as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgRoleView {
    pub name: String,
    pub slug: String,
}

impl From<org_roles::OrgRoleView> for OrgRoleView {
    fn from(view: org_roles::OrgRoleView) -> Self {
        let org_roles::OrgRoleView { name, slug } = view;
        Self { name, slug }
    }
}

/// A user as the API shows it (never the password).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    #[schema(required = true)]
    pub display_name: Option<String>,
    pub username: String,
    #[schema(required = true)]
    pub email: Option<String>,
    #[serde(rename = "org-roles")]
    pub org_roles: Vec<String>,
    pub site_spectator: bool,
    pub site_manager: bool,
    pub site_admin: bool,
    pub active: bool,
    #[schema(format = Date)]
    pub created_at: String,
    #[schema(required = true, format = Date)]
    pub updated_at: Option<String>,
    #[schema(required = true, format = Date)]
    pub deleted_at: Option<String>,
    #[schema(required = true)]
    pub meta: Option<String>,
}

impl From<users::UserView> for UserView {
    fn from(view: users::UserView) -> Self {
        let users::UserView {
            display_name,
            username,
            email,
            org_roles,
            site_spectator,
            site_manager,
            site_admin,
            active,
            created_at,
            updated_at,
            deleted_at,
            meta,
        } = view;
        Self {
            display_name,
            username,
            email,
            org_roles,
            site_spectator,
            site_manager,
            site_admin,
            active,
            created_at,
            updated_at,
            deleted_at,
            meta,
        }
    }
}
