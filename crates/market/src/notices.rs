//! Member notifications: an in-app message box per member (stored, with
//! read/unread) and a live push channel for the same events.
//!
//! Every notification has a deterministic id built from the event it reports
//! (`<member>:<event>`), so a step retried after a restart stores and pushes
//! it at most once. Marking a message read appends a new version; the
//! original stays in history. The push channel is an in-process broadcast:
//! subscribers (the server's Server-Sent Events endpoint) filter by member.
use crate::{Actor, Market, MarketError, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use voltex_model::{Member, MemberKind, MemberStatus};
use voltex_store::{Entity, Record};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeCategory {
    DeclarationAccepted,
    DeclarationHeld,
    DeclarationApproved,
    DeclarationRejected,
    DefaultDeclaration,
    SessionState,
    ResultsPublished,
    StatementIssued,
}

/// One message in a member's box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    /// `<member>:<event>`; the same event never produces two messages.
    pub id: String,
    pub member_id: String,
    pub category: NoticeCategory,
    pub created_at: DateTime<Utc>,
    /// What it concerns, e.g. a declaration key or a session id.
    pub subject: String,
    pub message: String,
    pub read: bool,
}

impl Entity for Notification {
    const TABLE: &'static str = "notifications";
    const NAME: &'static str = "notification";
    const SENSITIVE: bool = true; // messages quote statement totals and review reasons
    const OWNED: bool = true;
    fn entity_id(&self) -> String {
        self.id.clone()
    }
    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }
}

/// The live channel. Lagging subscribers lose the oldest messages (they are
/// still in the stored box); the capacity bounds memory under a slow client.
#[derive(Debug)]
pub(crate) struct NoticeHub {
    sender: broadcast::Sender<Notification>,
}

impl Default for NoticeHub {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl Market {
    /// Stores and pushes a notification unless the same event was already
    /// reported (then nothing happens); `true` when it was new.
    pub(crate) async fn notify(
        &self,
        member_id: &str,
        event: &str,
        category: NoticeCategory,
        subject: &str,
        message: String,
    ) -> Result<bool> {
        let n = Notification {
            id: format!("{member_id}:{event}"),
            member_id: member_id.to_owned(),
            category,
            created_at: Utc::now(),
            subject: subject.to_owned(),
            message,
            read: false,
        };
        let (rec, created) = self.store.insert_once(&n).await?;
        if created {
            // No subscriber is not an error: the message waits in the box.
            let _ = self.hub.sender.send(rec.value);
        }
        Ok(created)
    }

    /// Notifies every active participant (not the operator) of one event.
    pub(crate) async fn notify_all_members(
        &self,
        event: &str,
        category: NoticeCategory,
        subject: &str,
        message: &str,
    ) -> Result<()> {
        for m in self.store.list::<Member>().await? {
            let m = m.value;
            if m.status == MemberStatus::Active && m.kind != MemberKind::MarketOperator {
                self.notify(&m.id, event, category, subject, message.to_owned())
                    .await?;
            }
        }
        Ok(())
    }

    /// The acting member's message box, newest first.
    pub async fn notifications(
        &self,
        actor: &Actor,
        unread_only: bool,
    ) -> Result<Vec<Record<Notification>>> {
        let mut all = self
            .store
            .list_owned::<Notification>(&actor.member_id)
            .await?;
        all.retain(|n| !unread_only || !n.value.read);
        all.sort_by(|a, b| {
            b.value
                .created_at
                .cmp(&a.value.created_at)
                .then(b.id.cmp(&a.id))
        });
        Ok(all)
    }

    /// Marks one of the actor's messages read (a new version; idempotent).
    pub async fn mark_read(&self, actor: &Actor, id: &str) -> Result<Record<Notification>> {
        let current = self
            .store
            .get::<Notification>(id)
            .await?
            .filter(|n| n.value.member_id == actor.member_id)
            .ok_or_else(|| MarketError::NotFound {
                what: "notification",
                id: id.to_owned(),
            })?;
        if current.value.read {
            return Ok(current);
        }
        let mut n = current.value.clone();
        n.read = true;
        Ok(self.store.append(&n, current.version).await?)
    }

    /// A live feed of notifications as they are created (all members; the
    /// subscriber filters to the member it serves).
    pub fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.hub.sender.subscribe()
    }
}
