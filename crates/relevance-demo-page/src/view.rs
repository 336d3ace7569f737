//! The page's elements and how messages and live events are drawn.
//!
//! Elements are found once by their stable ids (tests rely on them:
//! `#agent-name`, `#messages`, `#input`, `#send`, `#status`, `#notice`).
//! Messages are drawn by their platform id, so a message seen twice (a
//! restored history followed by the live stream, a tool run that changes
//! status) is updated in place, never duplicated. Text is always set as
//! text, never as HTML. This module makes no requests.

use std::cell::RefCell;
use std::collections::HashMap;

use relevance::{Message, MessageContent, TaskEvent, ToolStatus};
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlButtonElement, HtmlInputElement};

/// Class of each final agent reply (tests look for it).
const AGENT_MESSAGE: &str = "agent-message";
/// Class of each user message (tests look for it).
const USER_MESSAGE: &str = "user-message";
/// The live preview of the reply being typed.
const TYPING: &str = "agent-typing";
/// The live preview of the agent's reasoning, dimmed.
const THINKING: &str = "agent-thinking";

/// The chat page.
#[derive(Debug)]
pub(crate) struct View {
    document: Document,
    agent_name: Element,
    messages: Element,
    input: HtmlInputElement,
    send: HtmlButtonElement,
    status: Element,
    notice: Element,
    /// Drawn messages by platform id.
    drawn: RefCell<HashMap<String, Element>>,
    /// User messages shown at once on send, waiting for their platform id.
    pending: RefCell<Vec<(String, Element)>>,
}

impl View {
    /// Finds every element the page needs; the error names a missing one.
    pub(crate) fn find() -> Result<View, String> {
        let document = web_sys::window()
            .and_then(|window| window.document())
            .ok_or("the page has no document")?;
        let element = |id: &str| {
            document
                .get_element_by_id(id)
                .ok_or_else(|| format!("the page has no #{id} element"))
        };
        let input = element("input")?
            .dyn_into::<HtmlInputElement>()
            .map_err(|_| "#input is not an <input>".to_string())?;
        let send = element("send")?
            .dyn_into::<HtmlButtonElement>()
            .map_err(|_| "#send is not a <button>".to_string())?;
        Ok(View {
            agent_name: element("agent-name")?,
            messages: element("messages")?,
            status: element("status")?,
            notice: element("notice")?,
            input,
            send,
            document,
            drawn: RefCell::new(HashMap::new()),
            pending: RefCell::new(Vec::new()),
        })
    }

    /// The composer form (`#send`'s form), to listen for submits on.
    pub(crate) fn form(&self) -> Option<web_sys::HtmlFormElement> {
        self.send.form()
    }

    pub(crate) fn show_agent(&self, name: &str, emoji: Option<&str>) {
        let title = match emoji {
            Some(emoji) if !emoji.is_empty() => format!("{emoji} {name}"),
            _ => name.to_string(),
        };
        self.agent_name.set_text_content(Some(&title));
        self.document.set_title(&title);
    }

    pub(crate) fn show_status(&self, text: &str) {
        self.status.set_text_content(Some(text));
    }

    /// A message the user must read (private agent, replaced key, failure).
    pub(crate) fn show_notice(&self, text: &str) {
        self.notice.set_text_content(Some(text));
        let _ = self.notice.remove_attribute("hidden");
    }

    /// Lets the user type and send, or not.
    pub(crate) fn set_ready(&self, ready: bool) {
        self.input.set_disabled(!ready);
        self.send.set_disabled(!ready);
        if ready {
            let _ = self.input.focus();
        }
    }

    /// Blocks a second send while one is on its way.
    pub(crate) fn set_sending(&self, sending: bool) {
        self.send.set_disabled(sending);
    }

    /// Takes the typed text out of the input (`None` when only blanks).
    pub(crate) fn take_input(&self) -> Option<String> {
        let text = self.input.value();
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let text = text.to_string();
        self.input.set_value("");
        Some(text)
    }

    /// Shows a user message at once, before the platform has stored it.
    pub(crate) fn show_pending_user(&self, text: &str) {
        let element = self.element("div", &format!("{USER_MESSAGE} pending"), text);
        self.insert(&element);
        self.pending.borrow_mut().push((text.to_string(), element));
    }

    /// Marks the pending messages as not sent.
    pub(crate) fn fail_pending(&self) {
        for (_, element) in self.pending.borrow_mut().drain(..) {
            element.set_class_name(&format!("{USER_MESSAGE} failed"));
        }
    }

    /// Empties the conversation (a new key cannot reach the earlier one).
    pub(crate) fn clear_messages(&self) {
        self.messages.set_text_content(None);
        self.drawn.borrow_mut().clear();
        self.pending.borrow_mut().clear();
    }

    /// Draws one event of the task.
    pub(crate) fn show_event(&self, event: &TaskEvent) {
        match event {
            TaskEvent::Message(message) => self.show_message(message),
            TaskEvent::Updated { status, .. } => self.show_status(&status_words(status)),
            // `text` is the whole text so far (the SDK adds the fragments up): it replaces
            // what the live line showed.
            TaskEvent::Thinking {
                text, message_id, ..
            } if !self.is_final(message_id.as_deref()) => {
                self.show_live(THINKING, text);
            }
            TaskEvent::Typing {
                text, message_id, ..
            } if !self.is_final(message_id.as_deref()) => {
                self.show_live(TYPING, text);
            }
            _ => {}
        }
    }

    /// Draws a message, or updates it in place when it was drawn before.
    pub(crate) fn show_message(&self, message: &Message) {
        match &message.content {
            MessageContent::User(user) => {
                if self.drawn.borrow().contains_key(&message.id) {
                    return;
                }
                let pending = {
                    let mut pending = self.pending.borrow_mut();
                    let at = pending.iter().position(|(text, _)| *text == user.text);
                    at.map(|at| pending.remove(at).1)
                };
                let element = match pending {
                    Some(element) => {
                        element.set_class_name(USER_MESSAGE);
                        element
                    }
                    None => {
                        let element = self.element("div", USER_MESSAGE, &user.text);
                        self.insert(&element);
                        element
                    }
                };
                self.drawn.borrow_mut().insert(message.id.clone(), element);
            }
            MessageContent::Agent(reply) if reply.generating => {
                self.show_live(TYPING, &reply.text);
            }
            MessageContent::Agent(reply) => {
                self.remove_live();
                let element = self.element("div", AGENT_MESSAGE, "");
                if !reply.thoughts.is_empty() {
                    let thoughts = self.element("div", "thoughts", &reply.thoughts.join("\n"));
                    let _ = element.append_child(&thoughts);
                }
                let text = self.element("div", "text", &reply.text);
                let _ = element.append_child(&text);
                self.upsert(&message.id, element);
            }
            MessageContent::AgentError(error) => {
                self.remove_live();
                let text = format!("⚠ {}", error.last_error().unwrap_or("the agent failed"));
                let element = self.element("div", "agent-error", &text);
                self.upsert(&message.id, element);
            }
            MessageContent::ToolRun(run) => {
                let status = match &run.status {
                    ToolStatus::Pending => "pending",
                    ToolStatus::Running => "running…",
                    ToolStatus::Completed => "completed",
                    ToolStatus::Error => "failed",
                    ToolStatus::Cancelled => "cancelled",
                    ToolStatus::Unknown(state) => state.as_str(),
                    _ => "unknown",
                };
                let title = run.title.as_deref().unwrap_or("a tool");
                let class = format!("tool-run tool-{}", status.trim_end_matches('…'));
                let element = self.element("div", &class, &format!("🔧 {title}: {status}"));
                self.upsert(&message.id, element);
            }
            _ => {}
        }
        self.scroll_to_end();
    }

    /// Whether the message a live token belongs to is already drawn as final:
    /// a token that arrives after its message must not bring the preview back.
    fn is_final(&self, message_id: Option<&str>) -> bool {
        message_id.is_some_and(|id| self.drawn.borrow().contains_key(id))
    }

    /// Shows the whole text so far in the one live preview of its kind.
    fn show_live(&self, class: &str, text: &str) {
        let existing = self.messages.get_elements_by_class_name(class).item(0);
        match existing {
            Some(element) => element.set_text_content(Some(text)),
            None => {
                let element = self.element("div", class, text);
                let _ = self.messages.append_child(&element);
            }
        }
        self.scroll_to_end();
    }

    fn remove_live(&self) {
        for class in [THINKING, TYPING] {
            while let Some(element) = self.messages.get_elements_by_class_name(class).item(0) {
                element.remove();
            }
        }
    }

    /// Replaces the element drawn for `id`, or adds it.
    fn upsert(&self, id: &str, element: Element) {
        let previous = self
            .drawn
            .borrow_mut()
            .insert(id.to_string(), element.clone());
        match previous {
            Some(previous) => {
                let _ = previous.replace_with_with_node_1(&element);
            }
            None => self.insert(&element),
        }
    }

    /// Adds a message above the live previews, which stay last.
    fn insert(&self, element: &Element) {
        let first_live = [THINKING, TYPING]
            .iter()
            .find_map(|class| self.messages.get_elements_by_class_name(class).item(0));
        let _ = match first_live {
            Some(live) => self.messages.insert_before(element, Some(&live)),
            None => self.messages.append_child(element),
        };
        self.scroll_to_end();
    }

    fn element(&self, tag: &str, class: &str, text: &str) -> Element {
        let element = self
            .document
            .create_element(tag)
            .expect("creating a plain element with a literal tag name never fails");
        element.set_class_name(class);
        if !text.is_empty() {
            element.set_text_content(Some(text));
        }
        element
    }

    fn scroll_to_end(&self) {
        self.messages.set_scroll_top(self.messages.scroll_height());
    }
}

/// A task status in the words a visitor reads ("Thinking…", "Done"): the wire names
/// (`idle`, `running`) mean something to a developer, not to someone trying the chat.
fn status_words(status: &relevance::TaskStatus) -> String {
    use relevance::TaskStatus;
    match status {
        TaskStatus::NotStarted => "Starting…",
        TaskStatus::Queued => "Waiting for the agent…",
        TaskStatus::Running => "Thinking…",
        TaskStatus::Action => "Waiting for your approval",
        TaskStatus::Paused => "Paused",
        TaskStatus::Idle | TaskStatus::Completed => "Done",
        TaskStatus::Cancelled => "Cancelled",
        TaskStatus::Error => "Something went wrong",
        TaskStatus::Unknown(state) => return state.clone(),
    }
    .to_string()
}
