//! The layout of the proof and certificate pages, and the PDF document around them.
//!
//! One A4 page, read top to bottom the way a person asks their questions:
//! - a header: the title, a sentence saying what the document is, and a coloured banner
//!   with the decision in words ("Consentement accordé"), with the QR code to the verify
//!   page in the top-right corner where a phone finds it first;
//! - "Consent": who recorded what, for which purpose, how and when (local time first, as
//!   the reader lives in it; the sealed UTC instant below it);
//! - "Log and seal": the identifiers a verifier compares, set in a fixed-width face;
//! - for a certificate, "Anchoring": the checkpoint and each anchor;
//! - "How to verify": the command and the verify page's URL (also a link);
//! - a footer saying that the sealed JSON, not this page, is authoritative.
//!
//! Values are in a two-column table (label, value), wrapped to their column. A hash or an
//! identifier (no spaces) is first set smaller, down to a floor, so that a 64-hex value
//! stays on one line, whole for copy-paste and `pdftotext`; only past that floor is it
//! broken between characters. Colour repeats what the words say (green granted, red
//! refused, amber revoked) and never carries meaning alone.
//!
//! If the content would run into the footer (a very long purpose, many anchors), the page
//! is laid out again in a compact density (smaller type, tighter rows); if even that
//! overflows, the page is refused with [`PdfError::DoesNotFit`]: a proof page that cut off
//! a value would be worse than none. Measured with the sample values: in the regular
//! density a proof holds a purpose of about 1,300 characters and a certificate with two
//! anchors about 500; in the compact one, about 2,400 and 1,500, or nine anchors.

use crate::canvas::{Canvas, FONT_NAMES, PAGE_HEIGHT, PAGE_WIDTH, Rgb};
use crate::font::Style;
use crate::labels::{self, Labels};
use crate::{
    Attachment, CertificateSummary, DisclosureSummary, PdfError, ProofSummary, Sealing, civil, qr,
    seal,
};
use pdf_writer::types::{
    ActionType, AnnotationFlags, AnnotationType, AssociationKind, OutputIntentSubtype, PageMode,
    SigFlags,
};
use pdf_writer::{Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use qrcode::QrCode;
use xmp_writer::{LangId, XmpWriter};

const MARGIN_X: f32 = 46.0;
const MARGIN_TOP: f32 = 42.0;
const MARGIN_BOTTOM: f32 = 34.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;
const QR_SIZE: f32 = 100.0;
const LABEL_WIDTH: f32 = 138.0;
const COLUMN_GAP: f32 = 12.0;
const VALUE_X: f32 = MARGIN_X + LABEL_WIDTH + COLUMN_GAP;
const VALUE_WIDTH: f32 = CONTENT_WIDTH - LABEL_WIDTH - COLUMN_GAP;

/// Type sizes and spacing. A page is laid out with [`Metrics::REGULAR`] and, only if that
/// overflows, again with [`Metrics::COMPACT`]: long free text then costs some size and air
/// instead of the whole page.
#[derive(Debug, Clone, Copy)]
struct Metrics {
    title: f32,
    body: f32,
    /// Intro and how-to-verify sentences.
    prose: f32,
    label: f32,
    mono: f32,
    /// Below this a fixed-width value wraps instead of shrinking further.
    mono_min: f32,
    small: f32,
    /// Line height as a multiple of the font size.
    leading: f32,
    row_padding: f32,
    /// Space above a section heading.
    section_gap: f32,
}

impl Metrics {
    const REGULAR: Metrics = Metrics {
        title: 20.0,
        body: 9.5,
        prose: 9.0,
        label: 8.5,
        mono: 8.5,
        mono_min: 7.0,
        small: 7.5,
        leading: 1.3,
        row_padding: 4.0,
        section_gap: 14.0,
    };
    const COMPACT: Metrics = Metrics {
        title: 18.0,
        body: 8.5,
        prose: 8.0,
        label: 7.5,
        mono: 7.5,
        mono_min: 6.5,
        small: 7.0,
        leading: 1.2,
        row_padding: 2.0,
        section_gap: 8.0,
    };
}

const INK: Rgb = Rgb(0.10, 0.11, 0.13);
const MUTED: Rgb = Rgb(0.38, 0.40, 0.44);
const HAIRLINE: Rgb = Rgb(0.84, 0.86, 0.89);
const ACCENT: Rgb = Rgb(0.09, 0.23, 0.45);
const LINK: Rgb = Rgb(0.04, 0.30, 0.66);
/// Granted, refused, revoked.
const DECISION_COLORS: [Rgb; 3] = [
    Rgb(0.08, 0.45, 0.22),
    Rgb(0.70, 0.12, 0.12),
    Rgb(0.66, 0.38, 0.0),
];

/// One line of a value: face, size, colour, text.
type Line = (Style, f32, Rgb, String);

/// The layout state: the canvas, the sizes in use and a cursor moving down the page.
struct Layout {
    canvas: Canvas,
    m: Metrics,
    /// The next free position, points below the page top.
    y: f32,
}

impl Layout {
    /// Lines of an ordinary value in the body size.
    fn text_lines(&self, style: Style, color: Rgb, text: &str) -> Vec<Line> {
        let size = self.m.body;
        self.canvas
            .wrap(style, size, text, VALUE_WIDTH)
            .into_iter()
            .map(|l| (style, size, color, l))
            .collect()
    }

    /// Lines of an identifier or hash: in the fixed-width face, shrunk (not below
    /// `mono_min`) to stay on one line, wrapped past that.
    fn mono_lines(&self, text: &str) -> Vec<Line> {
        let natural = self.canvas.width(Style::Mono, self.m.mono, text);
        let size = if natural <= VALUE_WIDTH {
            self.m.mono
        } else {
            (self.m.mono * VALUE_WIDTH / natural).max(self.m.mono_min)
        };
        self.canvas
            .wrap(Style::Mono, size, text, VALUE_WIDTH)
            .into_iter()
            .map(|l| (Style::Mono, size, INK, l))
            .collect()
    }

    /// A table row: the label on the left, `value` lines on the right, a hairline below.
    fn row(&mut self, label: &str, value: Vec<Line>) {
        let m = self.m;
        let labels = self
            .canvas
            .wrap(Style::Regular, m.label, label, LABEL_WIDTH);
        let first_baseline = self.y + m.row_padding + m.body * 0.95;
        let mut label_bottom = first_baseline;
        for (i, line) in labels.iter().enumerate() {
            let baseline = first_baseline + i as f32 * m.label * m.leading;
            self.canvas
                .text(MARGIN_X, baseline, Style::Regular, m.label, MUTED, line);
            label_bottom = baseline;
        }
        let mut baseline = first_baseline;
        let mut value_bottom = first_baseline;
        for (i, (style, size, color, text)) in value.iter().enumerate() {
            if i > 0 {
                baseline += size * m.leading;
            }
            self.canvas
                .text(VALUE_X, baseline, *style, *size, *color, text);
            value_bottom = baseline;
        }
        // Room for descenders, then the padding.
        self.y = label_bottom.max(value_bottom) + 3.0 + m.row_padding;
        self.canvas
            .hrule(MARGIN_X, MARGIN_X + CONTENT_WIDTH, self.y, 0.5, HAIRLINE);
    }

    /// A section heading with a rule under it.
    fn section(&mut self, title: &str) {
        self.y += self.m.section_gap;
        let baseline = self.y + 9.0;
        self.canvas.text(
            MARGIN_X,
            baseline,
            Style::Bold,
            9.0,
            ACCENT,
            &title.to_uppercase(),
        );
        self.y = baseline + 4.0;
        self.canvas
            .hrule(MARGIN_X, MARGIN_X + CONTENT_WIDTH, self.y, 1.0, ACCENT);
    }

    /// A wrapped paragraph over `width` starting at `x`; returns the lines' baselines.
    fn paragraph(
        &mut self,
        x: f32,
        width: f32,
        (style, size, color): (Style, f32, Rgb),
        text: &str,
    ) -> Vec<(f32, String)> {
        let mut placed = Vec::new();
        for line in self.canvas.wrap(style, size, text, width) {
            let baseline = self.y + size * 0.95;
            self.canvas.text(x, baseline, style, size, color, &line);
            self.y += size * self.m.leading;
            placed.push((baseline, line));
        }
        placed
    }
}

/// Lays out and writes the page of `p`, with the anchoring section when `cert` is given.
pub(crate) fn render(
    p: &ProofSummary,
    cert: Option<&CertificateSummary>,
    disclosure: Option<&DisclosureSummary>,
    sealing: &Sealing<'_>,
) -> Result<Vec<u8>, PdfError> {
    let words = labels::labels(p.language);
    let decision = labels::decision_index(&p.decision)?;
    let method = labels::method_index(&p.method)?;
    let code = qr::encode(&p.verify_url)?;
    let page = Page {
        p,
        cert,
        disclosure,
        words,
        decision,
        method,
        code: &code,
        seal_line: seal_line(words, sealing),
    };
    let canvas = match page.lay_out(Metrics::REGULAR) {
        Err(PdfError::DoesNotFit { .. }) => page.lay_out(Metrics::COMPACT)?,
        other => other?,
    };
    write_document(canvas, words, page.title(), &p.proof_id, sealing)
}

/// Everything a page shows, checked: the decision and method known, the QR code encoded.
struct Page<'a> {
    p: &'a ProofSummary,
    cert: Option<&'a CertificateSummary>,
    disclosure: Option<&'a DisclosureSummary>,
    words: &'static Labels,
    decision: usize,
    method: usize,
    code: &'a QrCode,
    /// The footer: who sealed the PDF, whether that is a qualified seal, and what counts.
    seal_line: String,
}

/// The footer's words about the seal.
fn seal_line(words: &Labels, sealing: &Sealing<'_>) -> String {
    let kind = if sealing.identity.is_qualified() {
        words.seal_qualified
    } else {
        words.seal_not_qualified
    };
    format!(
        "{} {}. {kind} {}",
        words.sealed_by,
        sealing.identity.holder(),
        words.footer
    )
}

impl Page<'_> {
    fn title(&self) -> &'static str {
        if self.disclosure.is_some() {
            return self.words.title_disclosure;
        }
        match self.cert {
            Some(_) => self.words.title_certificate,
            None => self.words.title_proof,
        }
    }

    /// Draws the page with sizes `m`; [`PdfError::DoesNotFit`] if it runs into the footer.
    fn lay_out(&self, m: Metrics) -> Result<Canvas, PdfError> {
        let (p, words) = (self.p, self.words);
        let decision_color = DECISION_COLORS[self.decision];
        let mut l = Layout {
            canvas: Canvas::new()?,
            m,
            y: MARGIN_TOP,
        };

        // Footer first: it fixes how far down the content may go.
        let footer_lines = l
            .canvas
            .wrap(Style::Regular, m.small, &self.seal_line, CONTENT_WIDTH);
        let footer_top =
            PAGE_HEIGHT - MARGIN_BOTTOM - footer_lines.len() as f32 * m.small * m.leading;
        l.canvas.hrule(
            MARGIN_X,
            MARGIN_X + CONTENT_WIDTH,
            footer_top - 4.0,
            0.5,
            HAIRLINE,
        );
        for (i, line) in footer_lines.iter().enumerate() {
            let baseline = footer_top + m.small + i as f32 * m.small * m.leading;
            l.canvas
                .text(MARGIN_X, baseline, Style::Regular, m.small, MUTED, line);
        }
        let limit = footer_top - 12.0;

        // Header: brand, title, what this is, the decision banner; the QR code on the right.
        let header_width = CONTENT_WIDTH - QR_SIZE - 18.0;
        l.canvas
            .text(MARGIN_X, l.y + 8.0, Style::Bold, 8.0, ACCENT, "CONSENTRY");
        l.y += 14.0;
        l.paragraph(
            MARGIN_X,
            header_width,
            (Style::Bold, m.title, INK),
            self.title(),
        );
        l.y += 2.0;
        let intro = match (self.disclosure, self.cert) {
            (Some(_), _) => words.intro_disclosure,
            (None, Some(_)) => words.intro_certificate,
            (None, None) => words.intro_proof,
        };
        l.paragraph(
            MARGIN_X,
            header_width,
            (Style::Regular, m.prose, MUTED),
            intro,
        );
        l.y += 8.0;
        let headline = words.headline[self.decision];
        let banner_text_width = header_width - 24.0;
        let banner_lines = l
            .canvas
            .wrap(Style::Bold, 13.0, headline, banner_text_width);
        let banner_height = 13.0 + banner_lines.len() as f32 * 13.0 * m.leading;
        let banner_top = l.y;
        l.canvas.fill_rect(
            MARGIN_X,
            banner_top,
            header_width,
            banner_height,
            decision_color.tint(0.88),
        );
        l.canvas
            .fill_rect(MARGIN_X, banner_top, 4.0, banner_height, decision_color);
        l.y += 8.0;
        l.paragraph(
            MARGIN_X + 14.0,
            banner_text_width,
            (Style::Bold, 13.0, decision_color),
            headline,
        );
        l.y = banner_top + banner_height;

        let qr_x = PAGE_WIDTH - MARGIN_X - QR_SIZE;
        qr::draw(&mut l.canvas, self.code, qr_x, MARGIN_TOP, QR_SIZE);
        l.canvas
            .link(qr_x, MARGIN_TOP, QR_SIZE, QR_SIZE, &p.verify_url);
        let caption = words.scan_to_verify;
        let caption_width = l.canvas.width(Style::Regular, m.small, caption);
        let caption_baseline = MARGIN_TOP + QR_SIZE + 3.0;
        l.canvas.text(
            qr_x + (QR_SIZE - caption_width) / 2.0,
            caption_baseline,
            Style::Regular,
            m.small,
            MUTED,
            caption,
        );
        l.y = l.y.max(caption_baseline + 4.0);

        // The consent.
        l.section(words.section_consent);
        let v = l.text_lines(Style::Regular, INK, &p.sender_name);
        l.row(words.sender, v);
        let v = l.mono_lines(&p.subject);
        l.row(words.subject, v);
        let v = l.text_lines(Style::Regular, INK, &p.purpose);
        l.row(words.purpose, v);
        let v = l.text_lines(
            Style::Bold,
            decision_color,
            words.decision_word[self.decision],
        );
        l.row(words.decision, v);
        let v = l.text_lines(Style::Regular, INK, words.method_word[self.method]);
        l.row(words.method, v);
        if let Some(given) = &p.given_at_local {
            let v = l.text_lines(Style::Regular, INK, given);
            l.row(words.given_local, v);
        }
        let v = l.text_lines(Style::Regular, INK, &p.recorded_at_local);
        l.row(words.recorded_local, v);
        let v = l.mono_lines(&p.recorded_at_utc);
        l.row(words.recorded_utc, v);

        // What a verifier compares.
        l.section(words.section_ledger);
        let v = l.mono_lines(&p.proof_id);
        l.row(words.proof_id, v);
        let v = l.mono_lines(&p.log_index.to_string());
        l.row(words.log_index, v);
        let v = l.text_lines(Style::Regular, INK, &p.log_origin);
        l.row(words.log_origin, v);
        let v = l.mono_lines(&p.seal_key_fingerprint);
        l.row(words.seal_key, v);
        let v = l.mono_lines(&p.leaf_hash);
        l.row(words.leaf_hash, v);

        if let Some(d) = self.disclosure {
            l.section(words.section_disclosure);
            let v = l.mono_lines(&d.address);
            l.row(words.disclosed_address, v);
            let v = l.text_lines(Style::Regular, INK, &d.ground);
            l.row(words.disclosure_ground, v);
            for (label, value) in &d.asserted {
                let mut v = l.text_lines(Style::Regular, INK, value);
                v.extend(l.text_lines(Style::Regular, MUTED, words.asserted_note));
                l.row(label, v);
            }
            if d.evidence {
                let v = l.text_lines(Style::Regular, INK, words.evidence_disclosed);
                l.row(words.disclosure_evidence, v);
            }
            let v = l.text_lines(Style::Regular, INK, &d.disclosed_at);
            l.row(words.disclosed_at, v);
            let v = l.mono_lines(&d.event);
            l.row(words.disclosure_event, v);
        }
        if let Some(c) = self.cert {
            l.section(words.section_anchoring);
            let v = l.mono_lines(&c.checkpoint_size.to_string());
            l.row(words.checkpoint_size, v);
            let v = l.mono_lines(&c.checkpoint_root);
            l.row(words.checkpoint_root, v);
            if c.anchors.is_empty() {
                let v = l.text_lines(Style::Regular, MUTED, words.no_anchor);
                l.row(words.anchor, v);
            }
            for (i, anchor) in c.anchors.iter().enumerate() {
                let mut v = l.text_lines(Style::Bold, INK, &anchor.kind);
                v.extend(l.mono_lines(&anchor.reference));
                v.extend(l.text_lines(Style::Regular, MUTED, &anchor.detail));
                l.row(&format!("{} {}", words.anchor, i + 1), v);
            }
        }

        // How to check all this.
        l.section(words.section_verify);
        l.y += 6.0;
        let how = match self.cert {
            Some(_) => words.verify_certificate,
            None => words.verify_proof,
        };
        l.paragraph(MARGIN_X, CONTENT_WIDTH, (Style::Regular, m.prose, INK), how);
        l.y += 4.0;
        let command = match self.cert {
            Some(_) => words.command_certificate,
            None => words.command_proof,
        };
        l.paragraph(
            MARGIN_X + 12.0,
            CONTENT_WIDTH - 12.0,
            (Style::Mono, m.body, INK),
            command,
        );
        l.y += 2.0;
        let url_top = l.y;
        // The page's address as people read it; the link opens it with the proof.
        let printed = p.verify_url.split('#').next().unwrap_or_default();
        let url_lines = l.paragraph(
            MARGIN_X + 12.0,
            CONTENT_WIDTH - 12.0,
            (Style::Regular, m.body, LINK),
            printed,
        );
        for (baseline, line) in &url_lines {
            let width = l.canvas.width(Style::Regular, m.body, line);
            l.canvas.hrule(
                MARGIN_X + 12.0,
                MARGIN_X + 12.0 + width,
                baseline + 1.5,
                0.4,
                LINK,
            );
        }
        l.canvas.link(
            MARGIN_X + 12.0,
            url_top,
            CONTENT_WIDTH - 12.0,
            l.y - url_top,
            &p.verify_url,
        );

        if l.y > limit {
            return Err(PdfError::DoesNotFit {
                needed: l.y - MARGIN_TOP,
                available: limit - MARGIN_TOP,
            });
        }
        Ok(l.canvas)
    }
}

/// Wraps the drawn page in a sealed PDF/A-3b file: catalog, page tree, the page, its fonts
/// and links, the attached JSON documents, the metadata PDF/A asks for, and the seal.
///
/// PDF/A-3b (ISO 19005-3, level B) as far as this writer controls it: the XMP metadata
/// stream (`pdfaid:part` 3, `conformance` B) agrees with the information dictionary; an
/// sRGB output intent (the page draws in `DeviceRGB`); every font embedded; every
/// annotation printable; the attachments are *associated files* (`/AF`, with an
/// `AFRelationship`, a MIME type and a modification date) so that the JSON a verifier
/// checks travels inside the PDF a person reads; a file identifier; no encryption, no
/// JavaScript, no transparency.
fn write_document(
    canvas: Canvas,
    words: &Labels,
    title: &str,
    proof_id: &str,
    sealing: &Sealing<'_>,
) -> Result<Vec<u8>, PdfError> {
    let (content, fonts, links) = canvas.finish();
    let sealed_at = civil::Instant::from_unix(sealing.sealed_at_unix);
    let title = format!("{title} {proof_id}");
    let mut pdf = Pdf::new();
    pdf.set_version(1, 7);
    let mut next = Ref::new(1);
    let catalog = next.bump();
    let tree = next.bump();
    let page = next.bump();
    let contents = next.bump();
    let info = next.bump();
    let metadata = next.bump();
    let icc = next.bump();
    let form_field = next.bump();
    let signature = next.bump();
    let annotations: Vec<Ref> = links.iter().map(|_| next.bump()).collect();
    let files: Vec<(Ref, Ref)> = sealing
        .attachments
        .iter()
        .map(|_| (next.bump(), next.bump()))
        .collect();

    let mut font_refs = Vec::with_capacity(fonts.len());
    for font in &fonts {
        font_refs.push(font.write(&mut pdf, &mut next)?);
    }

    {
        let mut cat = pdf.catalog(catalog);
        cat.pages(tree)
            .lang(TextStr(words.lang_tag))
            .metadata(metadata);
        cat.output_intents()
            .push()
            .subtype(OutputIntentSubtype::PDFA)
            .output_condition_identifier(TextStr("sRGB IEC61966-2.1"))
            .info(TextStr("sRGB IEC61966-2.1"))
            .dest_output_profile(icc);
        cat.insert(Name(b"AF"))
            .array()
            .items(files.iter().map(|(spec, _)| *spec));
        {
            let mut names = cat.names();
            let mut tree = names.embedded_files();
            let mut entries = tree.names();
            let mut sorted: Vec<(&Attachment<'_>, Ref)> = sealing
                .attachments
                .iter()
                .zip(files.iter().map(|(spec, _)| *spec))
                .collect();
            sorted.sort_by(|a, b| a.0.file_name.cmp(b.0.file_name));
            for (attachment, spec) in sorted {
                entries.insert(Str(attachment.file_name.as_bytes()), spec);
            }
        }
        cat.form()
            .fields([form_field])
            .sig_flags(SigFlags::SIGNATURES_EXIST | SigFlags::APPEND_ONLY);
        cat.page_mode(PageMode::UseAttachments);
    }
    pdf.pages(tree).kids([page]).count(1);
    let mut page_writer = pdf.page(page);
    page_writer
        .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
        .parent(tree)
        .contents(contents)
        .annotations(annotations.iter().copied().chain([form_field]));
    {
        let mut resources = page_writer.resources();
        let mut font_dict = resources.fonts();
        for ((_, name), id) in FONT_NAMES.iter().zip(&font_refs) {
            font_dict.pair(Name(name), *id);
        }
    }
    page_writer.finish();
    pdf.stream(contents, &content);

    for (id, (rect, uri)) in annotations.iter().zip(&links) {
        let mut annotation = pdf.annotation(*id);
        annotation
            .subtype(AnnotationType::Link)
            .rect(*rect)
            .flags(AnnotationFlags::PRINT)
            .border(0.0, 0.0, 0.0, None);
        annotation
            .action()
            .action_type(ActionType::Uri)
            .uri(Str(uri.as_bytes()));
        annotation.finish();
    }

    for (attachment, (spec, stream)) in sealing.attachments.iter().zip(&files) {
        let mut file = pdf.file_spec(*spec);
        file.path(Str(attachment.file_name.as_bytes()))
            .unic_file(TextStr(attachment.file_name))
            .description(TextStr(attachment.description))
            .association_kind(AssociationKind::Source);
        file.insert(Name(b"EF"))
            .dict()
            .pair(Name(b"F"), *stream)
            .pair(Name(b"UF"), *stream);
        file.finish();
        let mut embedded = pdf.embedded_file(*stream, attachment.bytes);
        embedded.subtype(Name(attachment.media_type.as_bytes()));
        let size = i32::try_from(attachment.bytes.len()).map_err(|_| PdfError::Attachment {
            name: attachment.file_name.to_owned(),
        })?;
        embedded
            .params()
            .size(size)
            .modification_date(sealed_at.pdf_date());
        embedded.finish();
    }

    // The seal: one invisible signature field (a zero-size widget, as PDF/A allows), its
    // value a signature dictionary whose byte range and contents `seal::sign` fills.
    {
        let mut field = pdf.indirect(form_field).dict();
        field
            .pair(Name(b"Type"), Name(b"Annot"))
            .pair(Name(b"Subtype"), Name(b"Widget"))
            .pair(Name(b"FT"), Name(b"Sig"))
            .pair(Name(b"T"), TextStr("Seal"))
            .pair(Name(b"Rect"), Rect::new(0.0, 0.0, 0.0, 0.0))
            .pair(
                Name(b"F"),
                (AnnotationFlags::PRINT | AnnotationFlags::LOCKED).bits() as i32,
            )
            .pair(Name(b"P"), page)
            .pair(Name(b"V"), signature);
    }
    {
        let mut sig = pdf.indirect(signature).dict();
        sig.pair(Name(b"Type"), Name(b"Sig"))
            .pair(Name(b"Filter"), Name(b"Adobe.PPKLite"))
            .pair(Name(b"SubFilter"), Name(b"ETSI.CAdES.detached"));
        sig.insert(Name(b"ByteRange"))
            .array()
            .items(seal::BYTE_RANGE_PLACEHOLDER);
        sig.pair(Name(b"Contents"), Str(&[b'0'; seal::CONTENTS_BYTES * 2]))
            .pair(Name(b"M"), sealed_at.pdf_date())
            .pair(Name(b"Name"), TextStr(&sealing.identity.holder()))
            .pair(Name(b"Reason"), TextStr(&title));
    }

    pdf.icc_profile(icc, SRGB_PROFILE)
        .n(3)
        .range([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);

    const PRODUCER: &str = "Consentry (consentry-pdf)";
    const CREATOR: &str = "Consentry";
    pdf.document_info(info)
        .title(TextStr(&title))
        .creator(TextStr(CREATOR))
        .producer(TextStr(PRODUCER))
        .creation_date(sealed_at.pdf_date())
        .modified_date(sealed_at.pdf_date());
    let xmp = {
        let mut xmp = XmpWriter::new();
        xmp.title([(None, title.as_str())]);
        xmp.creator_tool(CREATOR);
        xmp.producer(PRODUCER);
        xmp.create_date(sealed_at.xmp_date());
        xmp.modify_date(sealed_at.xmp_date());
        xmp.language([LangId(words.lang_tag)]);
        xmp.pdfa_part(3);
        xmp.pdfa_conformance("B");
        xmp.finish(None)
    };
    pdf.stream(metadata, xmp.as_bytes())
        .pair(Name(b"Type"), Name(b"Metadata"))
        .pair(Name(b"Subtype"), Name(b"XML"));

    // PDF/A asks for a file identifier; the document's own digest gives one that is the
    // same for the same document (so a sealed PDF is reproducible from its inputs).
    let id = {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(&content);
        h.update(title.as_bytes());
        h.update(sealing.sealed_at_unix.to_be_bytes());
        for a in &sealing.attachments {
            h.update(a.bytes);
        }
        h.finalize()[..16].to_vec()
    };
    pdf.set_file_id((id.clone(), id));
    Ok(seal::sign(pdf.finish(), sealing.identity)?)
}

/// The sRGB profile of the output intent: a compact ICC v2 profile in the public domain
/// (`icc/README.md`).
const SRGB_PROFILE: &[u8] = include_bytes!("../icc/sRGB-v2-magic.icc");
