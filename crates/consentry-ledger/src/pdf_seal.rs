//! The seal of the PDFs: its identity (configured, or self-issued at first start and kept
//! in the data directory), the signature time-stamp from the configured TSA, and the
//! upgrade of PDFs sealed while the TSA was down (PAdES B-B to B-T).
//!
//! A sealed PDF is made once and kept (`Store::keep_sealed_pdf`): a seal says "this
//! operator vouched for this page at this time", and sealing again at every download
//! would make many different files of one document. Disclosure PDFs name the person, so
//! they are never kept; [`PdfSeal::stamp`] serves them too.

use crate::clock::Clock;
use consentry_anchor::rfc3161::TsaAnchor;
use consentry_pdf::{Attachment, SealIdentity, Sealing};
use consentry_store::{PdfKey, SealedPdf, Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The seal and how its time-stamps are had.
#[derive(Clone)]
pub struct PdfSealSettings {
    /// The seal, from [`load_identity`].
    pub identity: Arc<SealIdentity>,
    /// The TSA of the signature time-stamps (the RFC 3161 anchoring TSA); none: PDFs stay
    /// PAdES B-B.
    pub tsa: Option<Arc<TsaAnchor>>,
    /// How often PDFs sealed B-B are offered to the TSA again.
    pub upgrade_interval: Duration,
}

impl std::fmt::Debug for PdfSealSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfSealSettings")
            .field("identity", &self.identity)
            .field("tsa", &self.tsa.as_ref().map(|t| t.url().to_owned()))
            .field("upgrade_interval", &self.upgrade_interval)
            .finish()
    }
}

/// Why the seal could not be loaded, made or applied.
#[derive(Debug, thiserror::Error)]
pub enum PdfSealError {
    /// A seal file could not be read or written.
    #[error("PDF seal file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The seal's certificate or key is not usable.
    #[error("PDF seal {path}: {source}")]
    Identity {
        /// The certificate file.
        path: PathBuf,
        /// Why.
        source: consentry_pdf::IdentityError,
    },
    /// The PDF could not be laid out or sealed.
    #[error(transparent)]
    Pdf(#[from] consentry_pdf::PdfError),
    /// Sealing or upgrading failed.
    #[error(transparent)]
    Seal(#[from] consentry_pdf::SealError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the self-issued seal's files failed.
    #[error(transparent)]
    Keys(#[from] crate::keys::KeyFileError),
}

/// The seal files of the self-issued seal, under the data directory: the chain and the
/// private key (`consentry backup` copies them with the other keys).
pub fn self_issued_paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join("pdf-seal");
    (dir.join("seal-chain.pem"), dir.join("seal-key.pem"))
}

fn read(path: &Path) -> Result<String, PdfSealError> {
    std::fs::read_to_string(path).map_err(|source| PdfSealError::File {
        path: path.to_owned(),
        source,
    })
}

/// Loads the configured seal, or the self-issued one of `data_dir`, making it (for
/// `holder`, at `now_unix`) when there is none yet.
///
/// # Errors
/// Unreadable files, a key that is not the certificate's, a certificate that may not
/// sign; or the self-issued seal cannot be written.
pub fn load_identity(
    configured: Option<&(PathBuf, PathBuf)>,
    data_dir: &Path,
    holder: &str,
    now_unix: u64,
) -> Result<SealIdentity, PdfSealError> {
    if let Some((chain, key)) = configured {
        return SealIdentity::from_pem(&read(chain)?, &read(key)?).map_err(|source| {
            PdfSealError::Identity {
                path: chain.clone(),
                source,
            }
        });
    }
    let (chain, key) = self_issued_paths(data_dir);
    if chain.exists() {
        return SealIdentity::self_issued_from_pem(&read(&chain)?, &read(&key)?).map_err(
            |source| PdfSealError::Identity {
                path: chain.clone(),
                source,
            },
        );
    }
    let seed = zeroize::Zeroizing::new(crate::random::bytes::<64>());
    let identity = SealIdentity::self_issued(holder, now_unix, &seed).map_err(|source| {
        PdfSealError::Identity {
            path: chain.clone(),
            source,
        }
    })?;
    let dir = data_dir.join("pdf-seal");
    std::fs::create_dir_all(&dir).map_err(|source| PdfSealError::File {
        path: dir.clone(),
        source,
    })?;
    let pem_error = |source| PdfSealError::Identity {
        path: chain.clone(),
        source,
    };
    // The key first: the chain file's presence says the pair is complete.
    crate::keys::replace_text(&key, &identity.key_pem().map_err(pem_error)?, 0o600)?;
    crate::keys::replace_text(&chain, &identity.chain_pem().map_err(pem_error)?, 0o644)?;
    tracing::info!(
        chain = %chain.display(),
        holder = %identity.holder(),
        "made a self-issued PDF seal (not a qualified seal); its CA certificate is the last of the chain file"
    );
    Ok(identity)
}

/// The PDF seal in service.
pub struct PdfSeal {
    identity: Arc<SealIdentity>,
    tsa: Option<Arc<TsaAnchor>>,
    store: Store,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PdfSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfSeal")
            .field("identity", &self.identity)
            .field("tsa", &self.tsa.as_ref().map(|t| t.url().to_owned()))
            .finish_non_exhaustive()
    }
}

/// How long a download waits for the TSA before keeping the PDF sealed B-B (the upgrade
/// task stamps it later).
const STAMP_WAIT: Duration = Duration::from_secs(10);

impl PdfSeal {
    pub(crate) fn new(
        identity: Arc<SealIdentity>,
        tsa: Option<Arc<TsaAnchor>>,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> PdfSeal {
        PdfSeal {
            identity,
            tsa,
            store,
            clock,
        }
    }

    /// The seal's identity (its certificate chain is published for readers to trust).
    pub fn identity(&self) -> &SealIdentity {
        &self.identity
    }

    /// How a PDF sealed now, carrying `attachments`, is sealed.
    pub fn sealing<'a>(&'a self, attachments: Vec<Attachment<'a>>) -> Sealing<'a> {
        Sealing {
            identity: self.identity.as_ref(),
            sealed_at_unix: self.clock.now_ms().div_euclid(1000),
            attachments,
        }
    }

    /// The PDF kept for `key`, if any.
    ///
    /// # Errors
    /// Storage failed.
    pub async fn kept(&self, key: &PdfKey) -> Result<Option<SealedPdf>, PdfSealError> {
        Ok(self.store.sealed_pdf(key).await?)
    }

    /// Adds the signature time-stamp to a PDF just sealed, when the TSA answers in time;
    /// returns the PDF and whether it is stamped (B-T) or not (B-B).
    pub async fn stamp(&self, pdf: Vec<u8>) -> (Vec<u8>, bool) {
        let Some(tsa) = &self.tsa else {
            return (pdf, false);
        };
        match tokio::time::timeout(STAMP_WAIT, stamp_with(tsa, &pdf)).await {
            Ok(Ok(stamped)) => (stamped, true),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "PDF sealed without signature time-stamp (B-B); it is upgraded when the TSA answers");
                (pdf, false)
            }
            Err(_) => {
                tracing::warn!("the TSA did not answer in time: PDF sealed B-B, upgraded later");
                (pdf, false)
            }
        }
    }

    /// Stamps a PDF just sealed for `tenant` and keeps it, unless one was kept for `key`
    /// meanwhile; returns the kept bytes.
    ///
    /// # Errors
    /// Storage failed.
    pub async fn keep(
        &self,
        tenant: &consentry_core::ids::TenantId,
        key: &PdfKey,
        pdf: Vec<u8>,
    ) -> Result<Vec<u8>, PdfSealError> {
        let (pdf, stamped) = self.stamp(pdf).await;
        let kept = self
            .store
            .keep_sealed_pdf(tenant, key, &pdf, stamped, self.clock.now_ms())
            .await?;
        Ok(kept.pdf)
    }

    /// Offers every kept PDF sealed B-B to the TSA; returns how many became B-T.
    ///
    /// # Errors
    /// Storage failed; a TSA that does not answer is not an error (the PDFs wait).
    pub async fn upgrade_pending(&self) -> Result<usize, PdfSealError> {
        let Some(tsa) = &self.tsa else {
            return Ok(0);
        };
        let mut upgraded = 0;
        for pdf in self.store.unstamped_pdfs(100).await? {
            match stamp_with(tsa, &pdf.pdf).await {
                Ok(stamped) => {
                    if self
                        .store
                        .stamp_pdf(&pdf.key, &stamped, self.clock.now_ms())
                        .await?
                    {
                        upgraded += 1;
                    }
                }
                Err(e) => {
                    tracing::info!(error = %e, "PDF seal upgrade to B-T waits for the TSA");
                    break;
                }
            }
        }
        if upgraded > 0 {
            tracing::info!(upgraded, "PDF seals upgraded from PAdES B-B to B-T");
        }
        Ok(upgraded)
    }

    /// Runs [`PdfSeal::upgrade_pending`] every `interval` until `stop`.
    pub(crate) async fn run_upgrades(
        self: Arc<Self>,
        interval: Duration,
        mut stop: watch::Receiver<bool>,
    ) {
        if self.tsa.is_none() {
            return;
        }
        loop {
            if let Err(e) = self.upgrade_pending().await {
                tracing::warn!(error = %e, "PDF seal upgrade failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// Why a time-stamp could not be added.
#[derive(Debug, thiserror::Error)]
enum StampError {
    #[error(transparent)]
    Tsa(#[from] consentry_anchor::AnchorError),
    #[error(transparent)]
    Seal(#[from] consentry_pdf::SealError),
}

async fn stamp_with(tsa: &TsaAnchor, pdf: &[u8]) -> Result<Vec<u8>, StampError> {
    let imprint = consentry_pdf::signature_timestamp_imprint(pdf)?;
    let token = tsa.stamp(&imprint).await?;
    Ok(consentry_pdf::add_signature_timestamp(pdf, &token)?)
}
