//! Every text the server puts in an error object, in one place per kind
//! (errors.rst, as ruled in DECISIONS.md, "Errors" and "Compatibility with
//! the reference implementation"). Validators and permission checks name
//! what went wrong through these functions; none spells a text itself, so
//! a text is changed here or nowhere. The OpenAPI description's examples
//! are made from the same functions (`examples`).

/// 1 `Object not found`.
pub fn not_found(object: &str) -> String {
    format!("Nonexistent {object}")
}

/// 3 `Invalid foreign key`, with the reference's final period.
pub fn invalid_foreign_key(object: &str, key: &str) -> String {
    format!("The {object} does not contain a valid {key} reference.")
}

/// 5 `Invalid identifier`: one bad identifier, or several.
pub fn invalid_identifier(kind: &str, values: &[String]) -> String {
    match values {
        [one] => format!("Expected {kind} but received {one}"),
        many => format!("Expected {kind} but received: {}", many.join(", ")),
    }
}

/// 6 `Invalid username` (only `timesync create-account`; the API answers a
/// malformed username with a `Bad object`, see `bad_object::invalid_username`).
pub fn invalid_username(username: &str) -> String {
    format!("Invalid username {username} is not a valid username")
}

/// 8 `Slug already exists` / `Slugs already exist`.
pub fn slugs_exist(slugs: &[String]) -> String {
    match slugs {
        [one] => format!("Slug {one} already exists on another object"),
        many => format!("Slugs {} already exist on another object", many.join(", ")),
    }
}

/// 8, for a taken org-role name (errors.rst has no error of its own for it).
pub fn name_exists(name: &str) -> String {
    format!("Name {name} already exists on another object")
}

/// 9 `Authorization failure`.
pub fn unauthorized(user: &str, action: &str) -> String {
    format!("{user} is not authorized to {action}")
}

/// 10 `Method not allowed`.
pub fn method_not_allowed(object: &str) -> String {
    format!("The method specified is not allowed for the {object} identified")
}

/// 11 `Bad query value`: every value the key was sent with that counts.
pub fn bad_query_value(key: &str, values: &str) -> String {
    format!("Parameter {key} contained invalid value {values}")
}

/// 12 `Username already exists`.
pub fn username_exists(username: &str) -> String {
    format!("Username {username} already exists")
}

/// 429 `Too many requests`.
pub fn too_many_requests(seconds: u64) -> String {
    format!("Too many failed login attempts; try again in {seconds} seconds")
}

/// 413, a body over the limit.
pub fn payload_too_large(limit: usize) -> String {
    format!("The request body is larger than the limit of {limit} bytes")
}

/// 2 `Server error`: the detail stays in the log under the request id.
pub fn server_error(request_id: &str) -> String {
    format!("Internal server error (request id {request_id})")
}

/// 7 `Authentication failure`.
pub mod authentication {
    pub const MISSING_CREDENTIALS: &str = "Missing credentials";
    pub const TYPE_REQUIRED: &str = "Authentication type required";
    pub const INCORRECT_LOGIN: &str = "Incorrect username or password";
    pub const BAD_TOKEN: &str = "Bad API token";
    pub const LDAP_UNAVAILABLE: &str = "The LDAP directory is unavailable; try again later";

    pub fn invalid_type(kind: &str) -> String {
        format!("{kind} is not a valid authentication type")
    }
}

/// The `${action}` of 9 `Authorization failure`, `${caller} is not
/// authorized to ${action}`.
pub mod action {
    /// Logging time for someone else.
    pub fn create_times_for(user: &str) -> String {
        format!("create time entries for {user}")
    }
    /// Logging time on a project the time's user is not a member of (the
    /// reference ends this one with a period).
    pub fn create_times_on(project_slug: &str) -> String {
        format!("create time entries for project {project_slug}.")
    }
    pub fn modify_time(uuid: &str) -> String {
        format!("modify time {uuid}")
    }
    pub fn delete_time(uuid: &str) -> String {
        format!("delete time {uuid}")
    }
    pub fn view_time(uuid: &str) -> String {
        format!("view time {uuid}")
    }
    pub const CREATE_ACTIVITIES: &str = "create activities";
    pub const UPDATE_ACTIVITIES: &str = "update activities";
    pub const DELETE_ACTIVITIES: &str = "delete activities";
    pub const CREATE_PROJECTS: &str = "create projects";
    pub fn change_project(project_name: &str) -> String {
        format!("make changes to {project_name}")
    }
    pub fn delete_project(slug: &str) -> String {
        format!("delete project {slug}")
    }
    pub const CREATE_USERS: &str = "create users";
    pub const DELETE_USERS: &str = "delete users";
    pub fn modify_user(username: &str) -> String {
        format!("modify user {username}")
    }
    /// A site manager changing more of another user than `site_spectator`.
    pub fn modify_user_beyond_spectator(username: &str) -> String {
        format!("modify fields of user {username} other than site_spectator")
    }
    /// Flags a caller may not set (their own, or manager/admin on others).
    pub fn set_permissions(username: &str) -> String {
        format!("set permissions of user {username}")
    }
    pub const CREATE_ORG_ROLES: &str = "create org-roles";
    pub const UPDATE_ORG_ROLES: &str = "update org-roles";
    pub const DELETE_ORG_ROLES: &str = "delete org-roles";
}

/// 4 `Bad object`: the three texts of errors.rst, with the words ruled in
/// DECISIONS.md, and the few about the body as a whole.
pub mod bad_object {
    /// `${object} does not have a ${field} field`
    pub fn unknown_field(object: &str, field: &str) -> String {
        format!("{object} does not have a {field} field")
    }
    /// `The ${object} is missing a ${field}`
    pub fn missing_field(object: &str, field: &str) -> String {
        format!("The {object} is missing a {field}")
    }
    /// `Field ${field} of ${object} should be ${expected} but was sent as ${sent}`:
    /// a wrong JSON type (both plain JSON type names) or a bad form (what
    /// was sent, e.g. `invalid slug X`, `negative number`).
    pub fn invalid_field(object: &str, field: &str, expected: &str, sent: &str) -> String {
        format!("Field {field} of {object} should be {expected} but was sent as {sent}")
    }
    /// A value of the wrong JSON type: both plain JSON type names
    /// (`number`, `string`, `array`, `object`, `boolean`; sent also `null`).
    pub fn wrong_type(object: &str, field: &str, expected: &str, sent: &str) -> String {
        invalid_field(object, field, expected, sent)
    }
    /// An empty string where a value is needed (on update; on create it is
    /// missing). `expected` is `string` or `slug`.
    pub fn empty_string(object: &str, field: &str, expected: &str) -> String {
        invalid_field(object, field, expected, "empty string")
    }
    pub fn invalid_slug(object: &str, field: &str, value: &str) -> String {
        invalid_field(object, field, "slug", &format!("invalid slug {value}"))
    }
    /// An array of slugs with an element that is no slug: `what` is
    /// `invalid slug` or the element's JSON type.
    pub fn invalid_slugs(object: &str, field: &str, what: &str) -> String {
        invalid_field(
            object,
            field,
            "slugs",
            &format!("array containing at least 1 {what}"),
        )
    }
    pub fn empty_array(object: &str, field: &str) -> String {
        invalid_field(object, field, "array of slugs", "empty array")
    }
    pub fn invalid_uri(object: &str, field: &str, value: &str) -> String {
        invalid_field(object, field, "URI", &format!("invalid URI {value}"))
    }
    pub fn invalid_date(object: &str, field: &str, value: &str) -> String {
        invalid_field(object, field, "ISO-8601 date", value)
    }
    pub fn negative_number(object: &str, field: &str) -> String {
        invalid_field(object, field, "positive number", "negative number")
    }
    pub fn non_integer(object: &str, field: &str) -> String {
        invalid_field(object, field, "positive integer", "non-integer number")
    }
    pub fn number_too_large(object: &str, field: &str, max: i64) -> String {
        invalid_field(
            object,
            field,
            &format!("integer of at most {max}"),
            "larger number",
        )
    }
    /// `sent` is the JSON type sent (`string` for a string that is no email).
    pub fn invalid_email(object: &str, field: &str, sent: &str) -> String {
        invalid_field(object, field, "valid email", sent)
    }
    pub fn invalid_username(object: &str, field: &str, value: &str) -> String {
        invalid_field(
            object,
            field,
            "valid username",
            &format!("invalid username {value}"),
        )
    }
    /// A name taken by another current activity or project.
    pub fn name_not_unique(object: &str) -> String {
        invalid_field(object, "name", "unique name", "name which already exists")
    }
    /// A string over its length limit.
    pub fn too_long(object: &str, field: &str, max: usize, unit: &str, sent: usize) -> String {
        invalid_field(
            object,
            field,
            &format!("string of at most {max} {unit}"),
            &format!("string of {sent} {unit}"),
        )
    }
    /// An array of slugs over its length limit.
    pub fn too_many(object: &str, field: &str, max: usize, sent: usize) -> String {
        invalid_field(
            object,
            field,
            &format!("array of at most {max} slugs"),
            &format!("array of {sent} items"),
        )
    }
    /// A project's `users` entry: `users.${name}` is the field.
    pub fn member_field(username: &str) -> String {
        format!("users.{username}")
    }
    /// A role of a project's `users` entry.
    pub fn member_role_field(username: &str, role: &str) -> String {
        format!("users.{username}.{role}")
    }
    /// The object an unknown role is refused on (`users.${name} of project`).
    pub fn member_object(username: &str, object: &str) -> String {
        format!("users.{username} of {object}")
    }
    /// A project's `users` naming one user twice (in two letter cases).
    pub fn user_named_twice(object: &str, username: &str) -> String {
        format!("Field users of {object} names the user {username} more than once")
    }
    pub const UNPARSEABLE_BODY: &str = "The request body could not be parsed as valid JSON";
    pub const BODY_NOT_AN_OBJECT: &str = "The request body must be a JSON object";
    pub const BODY_WITHOUT_OBJECT: &str = "The request body is missing an object";
    pub const EMPTY_PASSWORD: &str = "The password must not be empty";
    pub fn duplicate_key(key: &str) -> String {
        format!("The request body contains the key {key} more than once")
    }
    pub fn nested_too_deep(levels: usize) -> String {
        format!("The request body is nested deeper than {levels} levels")
    }
}
