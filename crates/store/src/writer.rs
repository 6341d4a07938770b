//! Group commit: the one task through which declarations and audit rows are
//! written.
//!
//! A request that stores a declaration (with the records that go with it:
//! its signature, its review or reference, its notification) or appends an
//! audit row does not open a transaction of its own: it queues a job and
//! waits. The writer takes every job queued (up to [`MAX_BATCH`]), writes
//! them all in one transaction — each job inside its own savepoint, so that
//! one job's refusal (its session moved on, its version was taken) leaves
//! the others in — commits once, and only then answers each job. An answer
//! therefore comes after the commit that made its write durable, and under
//! load one commit (one fsync) carries many declarations.
//!
//! Nothing waits for company: at low load a batch holds one job, and the
//! next transaction starts as soon as the previous one committed. The jobs
//! queued meanwhile form the next batch, so batches grow with the load.
//!
//! The audit chain stays one chain: the writer links each audit job to the
//! tip left by the job before it in the same batch.

use chrono::{DateTime, Utc};
use sqlx::Executor;
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};
use voltex_model::DeclarationBody;

use crate::audit::{AuditRow, AuditTip};
use crate::declarations::{
    Companion, StoredDeclaration, companion_versions, insert_companion, insert_companions,
};
use crate::tables::DECLARATIONS;
use crate::{Result, Store, StoreError, WriteTx, latest_version};

/// Most jobs written in one transaction.
pub const MAX_BATCH: usize = 512;
/// Jobs that may wait for the writer; a full queue makes callers wait
/// (back-pressure) rather than grow memory.
const QUEUE: usize = 4 * MAX_BATCH;

/// The records written with a declaration, made once its version is known.
pub type CompanionsFor = Box<dyn FnOnce(&StoredDeclaration) -> Result<Vec<Companion>> + Send>;

/// One declaration to store: stored only while its session is still at the
/// version the caller validated against (else [`StoreError::SessionMoved`]),
/// optionally only as an expected version of its declaration (a signed
/// submission names its version: a replay or a version taken meanwhile is
/// [`StoreError::UnexpectedVersion`], checked inside the writing
/// transaction), with the records written with it in the same transaction.
pub struct DeclarationWrite {
    pub(crate) session_id: String,
    pub(crate) session_version: i64,
    pub(crate) member_id: String,
    pub(crate) body: DeclarationBody,
    /// The body as stored (encoded by the caller's task, not the writer's).
    pub(crate) json: String,
    pub(crate) expected_version: Option<i64>,
    pub(crate) companions: Option<CompanionsFor>,
}

impl DeclarationWrite {
    /// A declaration of `member_id` for `session_id`, stored only while the
    /// session is still at `session_version`.
    pub fn new(
        session_id: &str,
        session_version: i64,
        member_id: &str,
        body: DeclarationBody,
    ) -> Result<Self> {
        let json = serde_json::to_string(&body).map_err(StoreError::Encode)?;
        Ok(Self {
            session_id: session_id.to_owned(),
            session_version,
            member_id: member_id.to_owned(),
            body,
            json,
            expected_version: None,
            companions: None,
        })
    }

    /// Stored only as version `expected` of its declaration (else
    /// [`StoreError::UnexpectedVersion`]).
    pub fn expecting(mut self, expected: i64) -> Self {
        self.expected_version = Some(expected);
        self
    }

    /// Records written in the same savepoint, made from the stored version.
    pub fn with_companions(
        mut self,
        make: impl FnOnce(&StoredDeclaration) -> Result<Vec<Companion>> + Send + 'static,
    ) -> Self {
        self.companions = Some(Box::new(make));
        self
    }
}

/// Makes the audit row that follows a tip; `None` when it could not (its
/// caller learns why through its own channel).
pub(crate) type AuditJob = Box<dyn FnOnce(Option<AuditTip>) -> Option<AuditRow> + Send>;

pub(crate) enum Job {
    Declaration(DeclarationWrite, oneshot::Sender<Result<StoredDeclaration>>),
    Audit(AuditJob, oneshot::Sender<Result<Option<AuditRow>>>),
}

/// A job's answer, held until the batch commits.
enum Answer {
    Declaration(
        oneshot::Sender<Result<StoredDeclaration>>,
        Result<StoredDeclaration>,
    ),
    Audit(
        oneshot::Sender<Result<Option<AuditRow>>>,
        Result<Option<AuditRow>>,
    ),
}

impl Answer {
    /// Sends the answer, or, when the batch failed, the batch's failure.
    fn send(self, failed: Option<&str>) {
        let not_committed = |m: &str| StoreError::NotCommitted(m.to_owned());
        match self {
            Answer::Declaration(tx, r) => {
                let _ = tx.send(match failed {
                    Some(m) if r.is_ok() => Err(not_committed(m)),
                    _ => r,
                });
            }
            Answer::Audit(tx, r) => {
                let _ = tx.send(match failed {
                    Some(m) if matches!(r, Ok(Some(_))) => Err(not_committed(m)),
                    _ => r,
                });
            }
        }
    }
}

/// The handle to the writer task, shared by the clones of a store.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    sender: std::sync::Mutex<Option<mpsc::Sender<Job>>>,
}

impl Store {
    /// Stores one declaration through the writer (group commit); answers
    /// once the transaction that holds it committed.
    pub async fn write_declaration(&self, write: DeclarationWrite) -> Result<StoredDeclaration> {
        let (tx, rx) = oneshot::channel();
        self.enqueue(Job::Declaration(write, tx)).await?;
        rx.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Queues an audit job; answers the row once committed (`None` when the
    /// job could not make its row).
    pub(crate) async fn write_audit(&self, job: AuditJob) -> Result<Option<AuditRow>> {
        let (tx, rx) = oneshot::channel();
        self.enqueue(Job::Audit(job, tx)).await?;
        rx.await.map_err(|_| StoreError::WriterStopped)?
    }

    async fn enqueue(&self, job: Job) -> Result<()> {
        let sender = self.writer_sender(false);
        let Err(mpsc::error::SendError(job)) = sender.send(job).await else {
            return Ok(());
        };
        // The task died with the runtime that ran it: start one here.
        self.writer_sender(true)
            .send(job)
            .await
            .map_err(|_| StoreError::WriterStopped)
    }

    /// The writer's queue, starting the task on first use (or anew when
    /// `restart`). The task holds a store without a writer of its own, so it
    /// ends when the last handle to this one is dropped.
    fn writer_sender(&self, restart: bool) -> mpsc::Sender<Job> {
        let mut slot = self.writer.sender.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some(s) if !restart && !s.is_closed() => s.clone(),
            _ => {
                let (tx, rx) = mpsc::channel(QUEUE);
                let store = Store {
                    writer: Default::default(),
                    ..self.clone()
                };
                tokio::spawn(run(store, rx));
                *slot = Some(tx.clone());
                tx
            }
        }
    }

    /// Writes one batch in one transaction and answers every job.
    async fn write_batch(&self, jobs: Vec<Job>) {
        let mut tx = match self.begin_write().await {
            Ok(tx) => tx,
            Err(e) => {
                tracing::error!(error = %e, jobs = jobs.len(), "cannot start a write transaction");
                let m = e.to_string();
                for job in jobs {
                    match job {
                        Job::Declaration(_, s) => {
                            let _ = s.send(Err(StoreError::NotCommitted(m.clone())));
                        }
                        Job::Audit(_, s) => {
                            let _ = s.send(Err(StoreError::NotCommitted(m.clone())));
                        }
                    }
                }
                return;
            }
        };
        let mut answers = Vec::with_capacity(jobs.len());
        self.write_jobs(&mut tx, jobs, &mut answers).await;
        let failed = tx.commit().await.err().map(|e| {
            tracing::error!(error = %e, jobs = answers.len(), "a batch of writes failed to commit; none was stored");
            e.to_string()
        });
        for a in answers {
            a.send(failed.as_deref());
        }
    }

    /// Every job of a batch. The batch's locks are taken first, in one order
    /// every process uses (its sessions sorted by id, then the audit chain),
    /// so that two replicas' batches never wait for each other in a cycle.
    ///
    /// Then every job is decided before anything is written: its session
    /// version, its declaration version (one query for the whole batch) and
    /// its companions' versions (one query per table) are checked, and a
    /// job that breaks a rule is answered with its refusal. What remains is
    /// written together, a few multi-row statements for the whole batch.
    /// Should that fail (a version another replica took on PostgreSQL; SQLite
    /// has one writer), it is undone and each job is written alone in its
    /// own savepoint, so that one job's failure is its own answer only.
    async fn write_jobs(&self, tx: &mut WriteTx, jobs: Vec<Job>, answers: &mut Vec<Answer>) {
        let now = Utc::now();
        // What the batch must lock, gathered first: the jobs themselves
        // (closures) cannot be held across an await.
        let mut ids: Vec<String> = jobs
            .iter()
            .filter_map(|j| match j {
                Job::Declaration(w, _) => Some(w.session_id.clone()),
                Job::Audit(..) => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let audits = jobs.iter().any(|j| matches!(j, Job::Audit(..)));
        let decided = match self.lock_batch(tx, &ids, audits).await {
            Ok((sessions, tip)) => self.decide(tx, jobs, &sessions, tip, now, answers).await,
            Err(e) => Err((e, jobs)),
        };
        let (items, tip) = match decided {
            Ok(d) => d,
            Err((e, jobs)) => {
                let m = e.to_string();
                answers.extend(jobs.into_iter().map(|job| match job {
                    Job::Declaration(_, s) => {
                        Answer::Declaration(s, Err(StoreError::NotCommitted(m.clone())))
                    }
                    Job::Audit(_, s) => Answer::Audit(s, Err(StoreError::NotCommitted(m.clone()))),
                }));
                return;
            }
        };
        let together = in_savepoint(tx, async |tx| {
            self.write_together(tx, &items, tip.as_ref(), now).await
        })
        .await;
        if let Err(e) = together {
            tracing::warn!(error = %e, jobs = items.len(), "a batch could not be written together; writing its jobs one by one");
            self.write_alone(tx, items, tip, now, answers).await;
            return;
        }
        answers.extend(items.into_iter().map(Decided::accepted));
    }

    /// Checks every job against the locked state and makes what it writes:
    /// refusals are answered here; the rest come back in order. Fails (with
    /// the jobs not yet decided) only when the database cannot be read.
    async fn decide(
        &self,
        tx: &mut WriteTx,
        jobs: Vec<Job>,
        sessions: &HashMap<String, i64>,
        mut tip: Option<AuditTip>,
        now: DateTime<Utc>,
        answers: &mut Vec<Answer>,
    ) -> std::result::Result<(Vec<Decided>, Option<AuditTip>), (StoreError, Vec<Job>)> {
        let tip_before = tip.clone();
        let keys: Vec<String> = jobs
            .iter()
            .filter_map(|j| match j {
                Job::Declaration(w, _) => Some(w.body.key(&w.session_id, &w.member_id)),
                Job::Audit(..) => None,
            })
            .collect();
        let mut unique: Vec<&str> = keys.iter().map(String::as_str).collect();
        unique.sort_unstable();
        unique.dedup();
        let mut latest =
            match crate::latest_versions(tx.conn(), self.backend, DECLARATIONS, &unique).await {
                Ok(l) => l,
                Err(e) => return Err((e, jobs)),
            };
        let mut decided = Vec::with_capacity(jobs.len());
        let mut keys = keys.into_iter();
        for job in jobs {
            match job {
                Job::Declaration(write, reply) => {
                    let key = keys.next().unwrap_or_default();
                    let next = latest.get(&key).copied().unwrap_or(0) + 1;
                    match prepare(write, key.clone(), next, sessions, now) {
                        Ok(d) => {
                            latest.insert(key, next);
                            decided.push(Decided::Declaration(reply, d));
                        }
                        Err(e) => answers.push(Answer::Declaration(reply, Err(e))),
                    }
                }
                Job::Audit(make, reply) => {
                    let Some(row) = make(tip.clone()) else {
                        answers.push(Answer::Audit(reply, Ok(None)));
                        continue;
                    };
                    if let Err(e) =
                        crate::audit::follows(tip.as_ref().map(|t| (t.seq, t.hash.as_str())), &row)
                    {
                        answers.push(Answer::Audit(reply, Err(e)));
                        continue;
                    }
                    tip = Some(AuditTip {
                        seq: row.seq,
                        hash: row.hash.clone(),
                    });
                    decided.push(Decided::Audit(reply, row));
                }
            }
        }
        let companions: Vec<&Companion> = decided
            .iter()
            .flat_map(|d| match d {
                Decided::Declaration(_, p) => p.companions.iter().map(|(c, _)| c).collect(),
                Decided::Audit(..) => Vec::new(),
            })
            .collect();
        let versions = match companion_versions(tx, self.backend, &companions).await {
            Ok(v) => v,
            Err(e) => {
                // Nothing was written: the decided jobs fail with the read.
                let m = e.to_string();
                for d in decided {
                    answers.push(d.failed(&m));
                }
                return Ok((Vec::new(), tip_before));
            }
        };
        let mut versions = versions.into_iter();
        for d in &mut decided {
            if let Decided::Declaration(_, p) = d {
                for (_, v) in &mut p.companions {
                    *v = versions.next().unwrap_or(1);
                }
            }
        }
        Ok((decided, tip_before))
    }

    /// The decided jobs in a few multi-row statements: declarations, their
    /// companions, audit rows (linked to `tip`).
    async fn write_together(
        &self,
        tx: &mut WriteTx,
        items: &[Decided],
        tip: Option<&AuditTip>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut declarations = Vec::new();
        let mut companions = Vec::new();
        let mut rows = Vec::new();
        for item in items {
            match item {
                Decided::Declaration(_, p) => {
                    declarations.push((&p.stored, p.json.as_str()));
                    companions.extend(p.companions.iter().map(|(c, v)| (c, *v)));
                }
                Decided::Audit(_, row) => rows.push(row),
            }
        }
        self.insert_declaration_rows(tx, &declarations).await?;
        insert_companions(self, tx, &companions, now).await?;
        self.insert_audit_rows(tx, tip, &rows).await
    }

    /// The decided jobs one by one, each in its own savepoint, re-reading
    /// the versions it takes: a job whose version was taken meanwhile is
    /// refused and the others go on.
    async fn write_alone(
        &self,
        tx: &mut WriteTx,
        items: Vec<Decided>,
        mut tip: Option<AuditTip>,
        now: DateTime<Utc>,
        answers: &mut Vec<Answer>,
    ) {
        for item in items {
            match item {
                Decided::Declaration(reply, p) => {
                    let r = in_savepoint(tx, async |tx| self.write_one(tx, &p, now).await).await;
                    answers.push(Answer::Declaration(reply, r.map(|()| p.stored)));
                }
                Decided::Audit(reply, row) => {
                    let r = in_savepoint(tx, async |tx| {
                        self.insert_audit_row(tx, tip.as_ref(), &row).await
                    })
                    .await;
                    if r.is_ok() {
                        tip = Some(AuditTip {
                            seq: row.seq,
                            hash: row.hash.clone(),
                        });
                    }
                    answers.push(Answer::Audit(reply, r.map(|()| Some(row))));
                }
            }
        }
    }

    /// One decided declaration and its companions, alone.
    async fn write_one(&self, tx: &mut WriteTx, p: &Prepared, now: DateTime<Utc>) -> Result<()> {
        let d = &p.stored;
        let next = latest_version(tx.conn(), DECLARATIONS, &d.key).await? + 1;
        if next != d.version {
            return Err(match p.expected_version {
                Some(expected) => StoreError::UnexpectedVersion {
                    key: d.key.clone(),
                    expected,
                    next,
                },
                None => StoreError::Conflict {
                    entity: "declaration",
                    id: d.key.clone(),
                    expected: d.version - 1,
                    actual: next - 1,
                },
            });
        }
        // Another process took this version between our read and insert
        // (PostgreSQL replicas; SQLite has one writer): refused like a lost
        // update, nothing of this job stays.
        self.insert_declaration_row(tx, d, &p.json).await?;
        for (c, _) in &p.companions {
            insert_companion(self, tx, c, now).await?;
        }
        Ok(())
    }

    /// Takes the batch's locks and reads what they guard: the current
    /// version of each session it declares into, and the audit chain's tip.
    /// `session_ids` sorted.
    async fn lock_batch(
        &self,
        tx: &mut WriteTx,
        session_ids: &[String],
        audits: bool,
    ) -> Result<(HashMap<String, i64>, Option<AuditTip>)> {
        let mut sessions = HashMap::with_capacity(session_ids.len());
        for id in session_ids {
            self.lock_session(tx, id).await?;
            sessions.insert(id.clone(), latest_version(tx.conn(), "sessions", id).await?);
        }
        let tip = if audits {
            self.lock_audit_tip(tx).await?
        } else {
            None
        };
        Ok((sessions, tip))
    }
}

/// A declaration job that passed its checks, with what it writes.
struct Prepared {
    stored: StoredDeclaration,
    /// The body as stored.
    json: String,
    expected_version: Option<i64>,
    /// Its companions and the versions they take.
    companions: Vec<(Companion, i64)>,
}

/// A job decided before the batch is written.
enum Decided {
    Declaration(oneshot::Sender<Result<StoredDeclaration>>, Prepared),
    Audit(oneshot::Sender<Result<Option<AuditRow>>>, AuditRow),
}

impl Decided {
    /// Its answer once written.
    fn accepted(self) -> Answer {
        match self {
            Decided::Declaration(reply, p) => Answer::Declaration(reply, Ok(p.stored)),
            Decided::Audit(reply, row) => Answer::Audit(reply, Ok(Some(row))),
        }
    }

    /// Its answer when the batch could not be written.
    fn failed(self, why: &str) -> Answer {
        let e = || StoreError::NotCommitted(why.to_owned());
        match self {
            Decided::Declaration(reply, _) => Answer::Declaration(reply, Err(e())),
            Decided::Audit(reply, _) => Answer::Audit(reply, Err(e())),
        }
    }
}

/// Checks one declaration against the locked session version and its next
/// version `next`, and makes the stored version and its companions.
fn prepare(
    write: DeclarationWrite,
    key: String,
    next: i64,
    sessions: &HashMap<String, i64>,
    submitted_at: DateTime<Utc>,
) -> Result<Prepared> {
    let session_now = sessions.get(&write.session_id).copied().unwrap_or(0);
    if session_now != write.session_version {
        return Err(StoreError::SessionMoved {
            session_id: write.session_id,
            expected: write.session_version,
            actual: session_now,
        });
    }
    if let Some(expected) = write.expected_version
        && expected != next
    {
        return Err(StoreError::UnexpectedVersion {
            key,
            expected,
            next,
        });
    }
    let stored = StoredDeclaration::new_version(
        write.session_id,
        write.member_id,
        write.body,
        next,
        submitted_at,
    );
    let companions = match write.companions {
        Some(make) => make(&stored)?.into_iter().map(|c| (c, 0)).collect(),
        None => Vec::new(),
    };
    Ok(Prepared {
        stored,
        json: write.json,
        expected_version: write.expected_version,
        companions,
    })
}

/// Runs `f` inside a savepoint: kept when it succeeds, undone when it fails
/// (the transaction goes on with the next job).
async fn in_savepoint<T>(
    tx: &mut WriteTx,
    f: impl AsyncFnOnce(&mut WriteTx) -> Result<T>,
) -> Result<T> {
    tx.conn().execute("SAVEPOINT job").await?;
    match f(tx).await {
        Ok(v) => {
            tx.conn().execute("RELEASE SAVEPOINT job").await?;
            Ok(v)
        }
        Err(e) => {
            tx.conn().execute("ROLLBACK TO SAVEPOINT job").await?;
            tx.conn().execute("RELEASE SAVEPOINT job").await?;
            Err(e)
        }
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        store.write_batch(std::mem::take(&mut batch)).await;
    }
}
