//! Workforces: reading one, sending it messages (which start or continue a
//! workforce task) and listing its tasks.
//!
//! A workforce task is the same [`Task`] as an agent task, owned by
//! [`TaskOwner::Workforce`]; sending is the shared [`MessageBuilder`], and
//! what differs by owner is `task::owner`. The wire shapes are
//! in `wire::workforces`: decoded leniently, but the fields that identify
//! something (`workforce_task_id`, `results`, `metadata`) are required and
//! their absence is a decode error that names them.

use futures_util::stream::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{default_client, Client};
use crate::error::Result;
use crate::http::Request;
use crate::message_builder::MessageBuilder;
use crate::paging::{every_item, Page};
use crate::region::Region;
use crate::task::owner::workforce_task;
use crate::task::{Task, TaskOwner, TaskRef};
use crate::wire::string;
use crate::wire::workforces::{
    item_path, TaskListAnswer, TaskListBody, WorkforceItem, DEFAULT_TASK_PAGE_SIZE, TASK_LIST_PATH,
    TASK_LIST_WHAT,
};

/// The workforces of the client's project, borrowed from a [`Client`].
#[derive(Debug, Clone, Copy)]
pub struct Workforces<'c> {
    client: &'c Client,
}

/// A workforce as the platform describes it, as far as the SDK reads it:
/// plain data that can be serialised, compared and cached. [`Workforce`] is
/// the handle that holds it next to a client and has the calls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkforceData {
    /// The workforce id.
    pub id: String,
    /// The display name.
    pub name: Option<String>,
    /// The client's project.
    pub project: String,
    /// The client's region.
    pub region: Region,
}

/// A workforce and the client it was read through: the calls
/// ([`Workforce::send_message`], [`Workforce::message`], [`Workforce::tasks`]),
/// and its [`WorkforceData`] through `Deref` (`workforce.id`) or
/// [`Workforce::data`]. `Debug` and `==` look at the data only, never the client.
#[derive(Clone)]
pub struct Workforce {
    client: Client,
    data: WorkforceData,
}

impl std::ops::Deref for Workforce {
    type Target = WorkforceData;
    fn deref(&self) -> &WorkforceData {
        &self.data
    }
}

/// The data is plain data: changing it here changes what this handle shows,
/// not the platform.
impl std::ops::DerefMut for Workforce {
    fn deref_mut(&mut self) -> &mut WorkforceData {
        &mut self.data
    }
}

impl std::fmt::Debug for Workforce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workforce")
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

/// Equal when the data is; the client it came through does not matter.
impl PartialEq for Workforce {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
    }
}

impl Workforce {
    /// The workforce as read: plain data, to keep, compare or serialise.
    pub fn data(&self) -> &WorkforceData {
        &self.data
    }

    /// The data, without the client.
    pub fn into_data(self) -> WorkforceData {
        self.data
    }
}

/// Which workforce tasks to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkforceTaskListOptions {
    /// Tasks per page (default 100).
    pub page_size: Option<u32>,
    /// Only tasks whose title matches this text (empty means no search).
    pub search: Option<String>,
    /// Where to start: a [`Page::next_cursor`] (empty or `None`
    /// means the first page).
    pub cursor: Option<String>,
}

impl Client {
    /// The workforces of the project.
    pub fn workforces(&self) -> Workforces<'_> {
        Workforces { client: self }
    }
}

impl Workforces<'_> {
    /// One workforce by id (`GET workforce/items/{id}`).
    pub async fn get(&self, workforce_id: &str) -> Result<Workforce> {
        let request = Request::get(item_path(workforce_id)).answer("workforce/items answer");
        let answer: WorkforceItem = self.client.send(request).await?;
        Ok(Workforce::from_wire(answer, self.client))
    }
}

impl Workforce {
    /// One workforce by id, read with the default client (see
    /// [`create_client`](crate::create_client)); same as
    /// `default_client()?.workforces().get(workforce_id)`.
    pub async fn get(workforce_id: &str) -> Result<Workforce> {
        default_client()?.workforces().get(workforce_id).await
    }

    /// The client this workforce was read with, and acts with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends `text` in a new task and returns the task at once, without
    /// waiting for the reply (`POST workforce/trigger`); to continue a task,
    /// use [`Workforce::message`] or [`Workforce::send_message_in`].
    ///
    /// The platform answers only with the task's id and starts the task at
    /// once, so the returned task is `Running` (state `"running"`) with no
    /// title or times until [`Task::refresh`]. A new task started with an
    /// embed key gets a client-made id `{task prefix}_-_{uuid v4}`, as the
    /// platform requires.
    pub async fn send_message(&self, text: impl Into<String>) -> Result<Task> {
        self.message(text).send().await
    }

    /// Sends `text` in an existing task (a [`Task`] or a task id); otherwise
    /// as [`Workforce::send_message`].
    pub async fn send_message_in<'t>(
        &self,
        task: impl Into<TaskRef<'t>>,
        text: impl Into<String>,
    ) -> Result<Task> {
        self.message(text).in_task(task).send().await
    }

    /// A message to send: choose a task, then [`MessageBuilder::send`].
    pub fn message(&self, text: impl Into<String>) -> MessageBuilder<'_> {
        let owner = TaskOwner::Workforce(self.id.clone());
        MessageBuilder::new(&self.client, owner, None, text.into())
    }

    /// One task of this workforce (`GET workforce/tasks/{id}/metadata`).
    pub async fn get_task(&self, task_id: &str) -> Result<Task> {
        let owner = TaskOwner::Workforce(self.id.clone());
        let (task, _token) = owner.read_task(&self.client, None, task_id).await?;
        Ok(task)
    }

    /// One page of this workforce's tasks (`POST workforce/tasks/list`).
    /// Follow [`Page::next_cursor`] for the next page, or use
    /// [`Workforce::all_tasks`].
    pub async fn tasks(&self, options: WorkforceTaskListOptions) -> Result<Page<Task>> {
        let request = Request::read_post(TASK_LIST_PATH)
            .json(&task_list_body(&self.id, &options))
            .answer(TASK_LIST_WHAT);
        let answer: TaskListAnswer = self.client.send(request).await?;
        Ok(task_page(answer, &self.client, &self.id))
    }

    /// Every task of this workforce from `options.cursor` on, page by page
    /// as the stream is polled. The stream ends after the last page, or
    /// right after yielding the first error.
    ///
    /// It is `Unpin` (use it with `StreamExt::next` directly) and `Send`
    /// off the browser; on wasm it is not `Send`, like every request there.
    pub fn all_tasks(
        &self,
        options: WorkforceTaskListOptions,
    ) -> impl Stream<Item = Result<Task>> + Unpin {
        let workforce = self.clone();
        let first_cursor = options.cursor.clone().filter(|cursor| !cursor.is_empty());
        every_item(first_cursor, TASK_LIST_WHAT, move |cursor| {
            let workforce = workforce.clone();
            let options = WorkforceTaskListOptions {
                cursor,
                ..options.clone()
            };
            async move { workforce.tasks(options).await }
        })
    }

    /// A workforce from its item, read through `client`.
    pub(crate) fn from_wire(item: WorkforceItem, client: &Client) -> Workforce {
        let name = item
            .workforce_metadata
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        Workforce {
            client: client.clone(),
            data: WorkforceData {
                id: item.id,
                name,
                project: client.project().to_string(),
                region: client.region(),
            },
        }
    }
}

/// The list body. The search and the cursor are trimmed, as the official
/// client does; an empty one is left out, as if not given.
fn task_list_body<'a>(
    workforce_id: &'a str,
    options: &'a WorkforceTaskListOptions,
) -> TaskListBody<'a> {
    let trimmed = |text: &'a Option<String>| {
        text.as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
    };
    TaskListBody {
        cursor: trimmed(&options.cursor),
        page_size: options.page_size.unwrap_or(DEFAULT_TASK_PAGE_SIZE),
        query: trimmed(&options.search),
        workforce_id,
    }
}

/// A task-list answer as a page. `workforce_id` is the workforce that was
/// asked about; the item's own `workforce_id` wins when it has one. An empty
/// `next_cursor` ends the list like an absent one.
fn task_page(answer: TaskListAnswer, client: &Client, workforce_id: &str) -> Page<Task> {
    let items = answer
        .results
        .into_iter()
        .map(|item| {
            let owner = string(item.workforce_id).unwrap_or_else(|| workforce_id.to_string());
            workforce_task(item.meta, client, &owner, &item.workforce_task_id)
        })
        .collect();
    Page {
        items,
        next_cursor: answer.next_cursor.filter(|cursor| !cursor.is_empty()),
    }
}

#[cfg(test)]
pub(crate) mod tests;
