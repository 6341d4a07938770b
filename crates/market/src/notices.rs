//! Member notifications: an in-app message box per member (stored, with
//! read/unread) and a live push channel for the same events.
//!
//! Every notification has a deterministic id built from the event it reports
//! (`<member>:<event>`), so a step retried after a restart stores and pushes
//! it at most once. Marking a message read appends a new version; the
//! original stays in history. The push channel is a broadcast in each
//! process: subscribers (the server's Server-Sent Events endpoint) filter by
//! member. On PostgreSQL several replicas share the database, so a new
//! notification is also announced (`NOTIFY voltex_notices`, after its commit)
//! and every other replica reads it by id and broadcasts it to its own
//! subscribers: each replica delivers each notification once.
use crate::{Actor, Market, MarketError, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use voltex_model::{Member, MemberKind, MemberStatus};
use voltex_store::{Announcements, Entity, Record, Store};

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

impl Notification {
    /// The id of the notice of `event` to `member_id`: one event, one notice.
    pub(crate) fn id_for(member_id: &str, event: &str) -> String {
        format!("{member_id}:{event}")
    }
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
///
/// On PostgreSQL it also relays between replicas: [`NoticeHub::publish`]
/// announces `<origin> <notification id>` (several ids, one per line, when
/// they queue up) on [`NOTICE_CHANNEL`], and a
/// listening task broadcasts what other origins announce, read back from the
/// store. An announcement lost (a dropped connection, a full queue) loses
/// only the live push: the message waits in the box.
#[derive(Debug)]
pub(crate) struct NoticeHub {
    sender: broadcast::Sender<Notification>,
    /// This hub's mark on its announcements, so that it skips its own.
    origin: String,
    /// Ids to announce to the other replicas (PostgreSQL only).
    outbox: Option<mpsc::Sender<String>>,
    /// The announcing and listening tasks, stopped with the hub.
    tasks: Vec<tokio::task::AbortHandle>,
}

/// The PostgreSQL channel notifications are announced on.
pub const NOTICE_CHANNEL: &str = "voltex_notices";

/// Announcements waiting to be sent; past this, new ones are dropped.
const OUTBOX_CAPACITY: usize = 4096;

impl Default for NoticeHub {
    /// A hub for one process (SQLite): no announcements.
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
            origin: hub_origin(),
            outbox: None,
            tasks: Vec::new(),
        }
    }
}

impl Drop for NoticeHub {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Distinct per hub, also between hubs of one process (tests run replicas
/// side by side).
fn hub_origin() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static HUBS: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{:x}.{:x}.{:x}",
        std::process::id(),
        nanos,
        HUBS.fetch_add(1, Ordering::Relaxed)
    )
}

impl NoticeHub {
    /// The hub of a market on `store`: on PostgreSQL it listens before it
    /// returns, so a subscriber created afterwards misses nothing announced.
    pub(crate) async fn start(store: &Store) -> Result<Self> {
        let mut hub = Self::default();
        let Some(announcements) = store.listen(NOTICE_CHANNEL).await? else {
            return Ok(hub);
        };
        let (outbox, queued) = mpsc::channel(OUTBOX_CAPACITY);
        hub.outbox = Some(outbox);
        hub.tasks
            .push(tokio::spawn(announce(store.clone(), hub.origin.clone(), queued)).abort_handle());
        hub.tasks.push(
            tokio::spawn(relay(
                store.clone(),
                hub.origin.clone(),
                announcements,
                hub.sender.clone(),
            ))
            .abort_handle(),
        );
        Ok(hub)
    }

    /// Fans a committed notification out: to this process's subscribers
    /// now, and (PostgreSQL) to the other replicas' through an announcement.
    pub(crate) fn publish(&self, n: &Notification) {
        // No subscriber is not an error: the message waits in the box.
        let _ = self.sender.send(n.clone());
        if let Some(outbox) = &self.outbox
            && outbox.try_send(n.id.clone()).is_err()
        {
            tracing::warn!(id = %n.id, "notice announcement queue full; other replicas miss its push");
        }
    }
}

/// Most bytes of one announcement (PostgreSQL refuses payloads of 8,000).
const ANNOUNCEMENT_BYTES: usize = 7_000;

/// Sends the queued ids as `<origin> <id>\n<id>…` announcements, in order:
/// every id queued while the previous announcement went out shares the
/// next one, so a burst of declarations costs a few round trips, not one
/// each.
async fn announce(store: Store, origin: String, mut queued: mpsc::Receiver<String>) {
    let mut ids = Vec::new();
    while queued.recv_many(&mut ids, OUTBOX_CAPACITY).await > 0 {
        let mut payload = String::new();
        for id in ids.drain(..) {
            if !payload.is_empty() && payload.len() + id.len() + 1 > ANNOUNCEMENT_BYTES {
                send_announcement(&store, &payload).await;
                payload.clear();
            }
            if payload.is_empty() {
                payload.push_str(&origin);
                payload.push(' ');
            } else {
                payload.push('\n');
            }
            payload.push_str(&id);
        }
        send_announcement(&store, &payload).await;
    }
}

async fn send_announcement(store: &Store, payload: &str) {
    if let Err(e) = store.announce(NOTICE_CHANNEL, payload).await {
        tracing::warn!(error = %e, "notices not announced to other replicas");
    }
}

/// Broadcasts the notifications other replicas announce, read back by id.
async fn relay(
    store: Store,
    origin: String,
    mut announcements: Announcements,
    sender: broadcast::Sender<Notification>,
) {
    loop {
        let payload = match announcements.next().await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "notice announcements unreadable; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        let Some((from, ids)) = payload.split_once(' ') else {
            continue;
        };
        if from == origin {
            continue;
        }
        for id in ids.lines() {
            match store.get::<Notification>(id).await {
                Ok(Some(rec)) => {
                    let _ = sender.send(rec.value);
                }
                Ok(None) => tracing::warn!(%id, "announced notice is not stored"),
                Err(e) => tracing::warn!(error = %e, %id, "announced notice unreadable"),
            }
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
            id: Notification::id_for(member_id, event),
            member_id: member_id.to_owned(),
            category,
            created_at: Utc::now(),
            subject: subject.to_owned(),
            message,
            read: false,
        };
        let (rec, created) = self.store.insert_once(&n).await?;
        if created {
            self.hub.publish(&rec.value);
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
