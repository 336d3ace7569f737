//! Which task a trigger writes to: one rule for agent and workforce tasks.
//!
//! A named task the caller can see is continued (if it belongs to the trigger's
//! agent or workforce); an unnamed one gets a server-made id, or is refused for
//! an embed key; a named one the caller cannot see is created only when the
//! caller may name it so ([`crate::auth::Principal::may_create_task`]) and no
//! task of the project has that id. An id of another scope gets the same answer
//! as an absent one, so nothing leaks.

use rusqlite::Connection;

use super::ServiceError;
use crate::auth::Principal;
use crate::engine::new_item_id;
use crate::store::tasks;

/// The task a message goes to.
pub(super) enum Choice<T> {
    Existing(T),
    New(String),
}

/// Decides [`Choice`]: `find` loads a task the caller can see, `belongs` says whether it
/// is the trigger's, `not_found` is the 404 of this kind of task.
pub(super) fn choose<T>(
    connection: &Connection,
    principal: &Principal,
    field: &'static str,
    requested: Option<String>,
    find: impl FnOnce(&Connection, &str) -> rusqlite::Result<Option<T>>,
    belongs: impl FnOnce(&T) -> bool,
    not_found: impl Fn(&str) -> ServiceError,
) -> Result<Choice<T>, ServiceError> {
    let Some(id) = requested else {
        return match principal.may_leave_task_unnamed(field) {
            Ok(()) => Ok(Choice::New(new_item_id())),
            Err(refusal) => Err(ServiceError::TaskId(refusal)),
        };
    };
    if let Some(task) = find(connection, &id)? {
        return if belongs(&task) {
            Ok(Choice::Existing(task))
        } else {
            Err(not_found(&id))
        };
    }
    // Not visible: absent, or outside the caller's scope. The shape is checked first, so
    // an id of another scope gets the same 400 as an absent one.
    if let Err(refusal) = principal.may_create_task(field, &id) {
        return Err(ServiceError::TaskId(refusal));
    }
    if tasks::task_id_taken(connection, &principal.project, &id)? {
        return Err(not_found(&id));
    }
    Ok(Choice::New(id))
}
