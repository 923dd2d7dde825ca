//! The embedded fonts: DejaVu Sans, Sans Bold and Sans Mono, subset per document and
//! written as CID fonts with a `ToUnicode` map.
//!
//! Why embed rather than use a PDF base-14 font (Helvetica with `WinAnsiEncoding`)? The
//! base-14 route needs no font data, but it only reaches the ~220 characters of
//! Windows-1252: a sender named "Łódź Sp. z o.o." or a purpose in Greek could not be
//! written, and the page would depend on each viewer's substitute for Helvetica, which
//! archival formats (PDF/A) forbid. DejaVu covers Latin, Greek and Cyrillic, its licence
//! allows embedding (`fonts/LICENSE`), and Debian ships it (`fonts-dejavu-core`).
//!
//! Why these particular PDF structures:
//! - each font is a `Type0` font over a `CIDFontType2` descendant with `Identity-H`
//!   encoding: a shown string is the sequence of 2-byte glyph IDs, so any glyph of the font
//!   can be used, not only 255;
//! - the font program is *subset* ([`subsetter`]) to the glyphs the page uses, renumbered
//!   from 1 in first-use order, so a page carries a few kilobytes of font, not 700 KB; the
//!   subset's glyph ID is the CID (`CIDToGIDMap /Identity`);
//! - the `ToUnicode` CMap maps every CID back to its character, which is what lets
//!   `pdftotext`, copy-paste, search and screen readers recover "Décision" from the glyphs;
//! - widths (`W`) come from the font's `hmtx` table, read with [`ttf_parser`], the same
//!   advances [`Font::width`] measures with, so the wrapping the layout computes is the
//!   wrapping a viewer shows.
//!
//! A character the font has no glyph for is drawn as U+FFFD (a visible "�") and mapped
//! back to U+FFFD: the page shows that something could not be drawn rather than dropping it
//! silently; the sealed JSON keeps the exact text.

use crate::PdfError;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Finish, Name, Pdf, Rect, Ref, Str};
use std::collections::BTreeMap;
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

/// Which face a piece of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Body text and values.
    Regular,
    /// Title, headings, the decision.
    Bold,
    /// Identifiers and hashes: fixed width, so hex digits line up and are easy to compare.
    Mono,
}

/// A font file shipped in `fonts/`.
struct FontFile {
    /// PostScript name, used for `BaseFont` (after the subset tag).
    postscript: &'static str,
    /// Six capital letters: the subset tag PDF requires before a subset's name. Fixed per
    /// face (it only has to differ between the subsets of one document) so output stays
    /// deterministic.
    tag: &'static str,
    /// The TrueType program.
    data: &'static [u8],
}

static REGULAR: FontFile = FontFile {
    postscript: "DejaVuSans",
    tag: "CSNTRA",
    data: include_bytes!("../fonts/DejaVuSans.ttf"),
};
static BOLD: FontFile = FontFile {
    postscript: "DejaVuSans-Bold",
    tag: "CSNTRB",
    data: include_bytes!("../fonts/DejaVuSans-Bold.ttf"),
};
static MONO: FontFile = FontFile {
    postscript: "DejaVuSansMono",
    tag: "CSNTRC",
    data: include_bytes!("../fonts/DejaVuSansMono.ttf"),
};

/// One face as used by one document: its metrics, and the glyphs used so far.
pub(crate) struct Font {
    file: &'static FontFile,
    face: Face<'static>,
    /// Font units to PDF text-space thousandths.
    scale: f32,
    remapper: GlyphRemapper,
    /// For each subset glyph ID (= CID): the character it stands for and its width in
    /// thousandths of the font size.
    used: BTreeMap<u16, (char, f32)>,
}

impl Font {
    /// Opens the embedded face for `style`.
    pub(crate) fn new(style: Style) -> Result<Self, PdfError> {
        let file = match style {
            Style::Regular => &REGULAR,
            Style::Bold => &BOLD,
            Style::Mono => &MONO,
        };
        let face = Face::parse(file.data, 0).map_err(|e| PdfError::Font {
            font: file.postscript,
            reason: e.to_string(),
        })?;
        let scale = 1000.0 / f32::from(face.units_per_em());
        Ok(Font {
            file,
            face,
            scale,
            remapper: GlyphRemapper::new(),
            used: BTreeMap::new(),
        })
    }

    /// The glyph drawn for `c`, and the character it stands for (`c`, or U+FFFD when the
    /// font lacks `c`).
    fn glyph(&self, c: char) -> (GlyphId, char) {
        const REPLACEMENT: char = '\u{FFFD}';
        match self.face.glyph_index(c) {
            Some(g) => (g, c),
            None => (
                self.face.glyph_index(REPLACEMENT).unwrap_or(GlyphId(0)),
                REPLACEMENT,
            ),
        }
    }

    /// A glyph's advance in thousandths of the font size.
    fn advance(&self, g: GlyphId) -> f32 {
        self.face.glyph_hor_advance(g).map_or(0.0, f32::from) * self.scale
    }

    /// The width of `text` set at `size` points, in points.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c).0))
            .sum::<f32>()
            * size
            / 1000.0
    }

    /// The bytes of a `Tj` string showing `text`, recording the glyphs for the subset.
    pub(crate) fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let (glyph, shown) = self.glyph(c);
            let cid = self.remapper.remap(glyph.0);
            let width = self.advance(glyph);
            self.used.entry(cid).or_insert((shown, width));
            out.extend_from_slice(&cid.to_be_bytes());
        }
        out
    }

    /// Writes the font's objects, taking object numbers from `next`; returns the
    /// reference of the `Type0` font to name in the page's resources.
    pub(crate) fn write(&self, pdf: &mut Pdf, next: &mut Ref) -> Result<Ref, PdfError> {
        let type0 = next.bump();
        let cid_font = next.bump();
        let descriptor = next.bump();
        let program = next.bump();
        let cmap = next.bump();

        let base = format!("{}+{}", self.file.tag, self.file.postscript);
        let base = Name(base.as_bytes());
        let system_info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };

        pdf.type0_font(type0)
            .base_font(base)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_font)
            .to_unicode(cmap);

        let mut cid = pdf.cid_font(cid_font);
        cid.subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(system_info)
            .font_descriptor(descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        {
            let mut widths = cid.widths();
            for (&id, &(_, width)) in &self.used {
                widths.consecutive(id, [width]);
            }
        }
        cid.finish();

        let s = self.scale;
        let bbox = self.face.global_bounding_box();
        let mut flags = FontFlags::SYMBOLIC;
        if self.face.is_monospaced() {
            flags |= FontFlags::FIXED_PITCH;
        }
        let ascent = f32::from(self.face.ascender()) * s;
        pdf.font_descriptor(descriptor)
            .name(base)
            .flags(flags)
            .bbox(Rect::new(
                f32::from(bbox.x_min) * s,
                f32::from(bbox.y_min) * s,
                f32::from(bbox.x_max) * s,
                f32::from(bbox.y_max) * s,
            ))
            .italic_angle(self.face.italic_angle())
            .ascent(ascent)
            .descent(f32::from(self.face.descender()) * s)
            .cap_height(
                self.face
                    .capital_height()
                    .map_or(ascent, |h| f32::from(h) * s),
            )
            // The usual estimate from the weight class (as PDF writers do): the stem width
            // is only a hint for substitution, which an embedded font never needs.
            .stem_v(10.0 + 0.244 * (f32::from(self.face.weight().to_number()) - 50.0))
            .font_file2(program);

        let subset =
            subsetter::subset(self.file.data, 0, &self.remapper).map_err(|e| PdfError::Font {
                font: self.file.postscript,
                reason: e.to_string(),
            })?;
        let length1 = i32::try_from(subset.len()).map_err(|_| PdfError::Font {
            font: self.file.postscript,
            reason: "subset larger than 2 GiB".to_owned(),
        })?;
        pdf.stream(program, &subset).pair(Name(b"Length1"), length1);

        let mut to_unicode = UnicodeCmap::new(Name(b"Consentry-UCS"), system_info);
        for (&id, &(c, _)) in &self.used {
            to_unicode.pair(id, c);
        }
        pdf.cmap(cmap, &to_unicode.finish());
        Ok(type0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_face_parses_and_covers_french() {
        for style in [Style::Regular, Style::Bold, Style::Mono] {
            let font = Font::new(style).unwrap();
            for c in "éèêëàâçîïôûùüÿœæÉÈÊÀÇÎÔÛŒÆ«»’€".chars() {
                assert_eq!(font.glyph(c).1, c, "{style:?} lacks {c}");
            }
        }
    }

    #[test]
    fn a_missing_glyph_is_shown_as_the_replacement_character() {
        let font = Font::new(Style::Regular).unwrap();
        // CJK is outside DejaVu Sans.
        assert_eq!(font.glyph('漢').1, '\u{FFFD}');
    }

    #[test]
    fn encoding_assigns_cids_in_first_use_order_and_repeats_them() {
        let mut font = Font::new(Style::Regular).unwrap();
        assert_eq!(font.encode("aba"), vec![0, 1, 0, 2, 0, 1]);
        assert_eq!(font.used.get(&1).map(|u| u.0), Some('a'));
        assert_eq!(font.used.get(&2).map(|u| u.0), Some('b'));
    }

    #[test]
    fn mono_digits_and_letters_share_one_width() {
        let font = Font::new(Style::Mono).unwrap();
        let w = font.width("0", 10.0);
        assert!(w > 5.0 && w < 7.0);
        assert!((font.width("f", 10.0) - w).abs() < 1e-3);
        assert!((font.width("0123456789abcdef", 10.0) - 16.0 * w).abs() < 1e-2);
    }
}
