//! The JSON shapes of the API's objects: serialised and described to the
//! OpenAPI document by the same types, each built from the domain's view.
//! Each shape is declared once (`wire_view!`), which also writes its
//! conversion: the domain view is destructured whole, so a field added
//! there does not compile until it is shown here.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{activities, org_roles, projects, times, users};

/// Converts every view of a list.
pub fn all<D, V: From<D>>(views: Vec<D>) -> Vec<V> {
    views.into_iter().map(V::from).collect()
}

/// Declares a wire shape `$name` with the fields of the domain view
/// `$domain`, and the conversion from it: each field moves over as it is,
/// or through `=> $convert` (a function of the domain field).
macro_rules! wire_view {
    // A revisioned object: its own fields, then the stamps and parents
    // every revisioned object ends with.
    (
        $(#[$attr:meta])*
        $name:ident from $($domain:ident)::+, with revisions { $($fields:tt)* }
    ) => {
        wire_view! {
            $(#[$attr])*
            $name from $($domain)::+, with stamps { $($fields)* } then {
                /// Older revisions, newest first (only with `include_revisions`).
                #[serde(skip_serializing_if = "Option::is_none")]
                #[schema(nullable = false, no_recursion)]
                parents: Option<Vec<$name>> => revisions,
            }
        }
    };
    // The created/updated/deleted dates between its own fields and those
    // that follow them.
    (
        $(#[$attr:meta])*
        $name:ident from $($domain:ident)::+, with stamps { $($fields:tt)* } then { $($after:tt)* }
    ) => {
        wire_view! {
            $(#[$attr])*
            $name from $($domain)::+ {
                $($fields)*
                #[schema(format = Date)]
                created_at: String,
                #[schema(required = true, format = Date)]
                updated_at: Option<String>,
                #[schema(required = true, format = Date)]
                deleted_at: Option<String>,
                $($after)*
            }
        }
    };
    (
        $(#[$attr:meta])*
        $name:ident from $($domain:ident)::+ {
            $( $(#[$field_attr:meta])* $field:ident: $ty:ty $(=> $convert:expr)? ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            $( $(#[$field_attr])* pub $field: $ty, )*
        }

        impl From<$($domain)::+> for $name {
            fn from(view: $($domain)::+) -> Self {
                let $($domain)::+ { $($field),* } = view;
                Self { $( $field: wire_view!(@convert $field $(, $convert)?), )* }
            }
        }
    };
    (@convert $field:ident) => { $field };
    (@convert $field:ident, $convert:expr) => { ($convert)($field) };
}

/// Converts the older revisions, when shown.
fn revisions<D, V: From<D>>(parents: Option<Vec<D>>) -> Option<Vec<V>> {
    parents.map(all)
}

wire_view! {
    /// An activity in the wire shape.
    ActivityView from activities::ActivityView, with revisions {
        name: String,
        /// `null` once deleted.
        #[schema(required = true)]
        slug: Option<String>,
        uuid: String,
        revision: i32,
    }
}

wire_view! {
    /// A user's roles on a project.
    #[derive(Clone, Copy)]
    Roles from projects::Roles {
        member: bool,
        spectator: bool,
        manager: bool,
    }
}

wire_view! {
    /// A project in the wire shape.
    ProjectView from projects::ProjectView, with revisions {
        name: String,
        /// Sorted.
        slugs: Vec<String>,
        #[schema(required = true)]
        uri: Option<String>,
        /// The default activity's current slug.
        #[schema(required = true)]
        default_activity: Option<String>,
        /// Absent on parents (members are not kept per revision).
        #[serde(skip_serializing_if = "Option::is_none")]
        #[schema(nullable = false)]
        users: Option<BTreeMap<String, Roles>>
            => |users: Option<BTreeMap<String, projects::Roles>>| {
                users.map(|u| u.into_iter().map(|(k, r)| (k, r.into())).collect())
            },
        uuid: String,
        revision: i32,
    }
}

wire_view! {
    /// A time as shown on the wire.
    TimeView from times::TimeView, with revisions {
        duration: i32,
        /// The username as stored.
        user: String,
        /// The current slugs of the project, sorted (empty once it is deleted).
        project: Vec<String>,
        /// The current slugs of the activities, sorted; deleted activities
        /// have no slug and are left out.
        activities: Vec<String>,
        #[schema(required = true)]
        notes: Option<String>,
        #[schema(required = true)]
        issue_uri: Option<String>,
        #[schema(format = Date)]
        date_worked: String,
        revision: i32,
        uuid: String,
    }
}

wire_view! {
    /// An org-role as the API shows it.
    OrgRoleView from org_roles::OrgRoleView {
        name: String,
        slug: String,
    }
}

wire_view! {
    /// A user as the API shows it (never the password).
    UserView from users::UserView, with stamps {
        #[schema(required = true)]
        display_name: Option<String>,
        username: String,
        #[schema(required = true)]
        email: Option<String>,
        #[serde(rename = "org-roles")]
        org_roles: Vec<String>,
        site_spectator: bool,
        site_manager: bool,
        site_admin: bool,
        active: bool,
    } then {
        #[schema(required = true)]
        meta: Option<String>,
    }
}
