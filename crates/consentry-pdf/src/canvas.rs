//! The drawing surface of one A4 page: text, rectangles, rules and links, in points
//! measured from the page's *top* left corner, plus line wrapping.
//!
//! Layout code thinks top-down (a cursor that moves down the page), PDF thinks bottom-up;
//! the conversion lives here only. Wrapping lives here too because it needs the same font
//! metrics as drawing: text is broken at spaces (U+0020 only, so the no-break space before
//! a French ":" keeps it on its word's line), and a word wider than the column (a hash, a
//! URL) is broken between characters, so no value can run off the page whatever its
//! length.

use crate::PdfError;
use crate::font::{Font, Style};
use pdf_writer::{Content, Name, Rect, Str};

/// A4 width, points.
pub(crate) const PAGE_WIDTH: f32 = 595.28;
/// A4 height, points.
pub(crate) const PAGE_HEIGHT: f32 = 841.89;

/// An RGB colour, each channel 0–1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rgb(pub f32, pub f32, pub f32);

impl Rgb {
    /// Mixes with white: `amount` 0 keeps the colour, 1 gives white.
    pub(crate) fn tint(self, amount: f32) -> Rgb {
        let mix = |c: f32| c + (1.0 - c) * amount;
        Rgb(mix(self.0), mix(self.1), mix(self.2))
    }
}

/// The resource names of the three faces in the page's `/Font` dictionary.
pub(crate) const FONT_NAMES: [(Style, &[u8]); 3] = [
    (Style::Regular, b"F1"),
    (Style::Bold, b"F2"),
    (Style::Mono, b"F3"),
];

/// A page being drawn.
pub(crate) struct Canvas {
    content: Content,
    regular: Font,
    bold: Font,
    mono: Font,
    /// Link areas (PDF coordinates) and their URIs.
    links: Vec<(Rect, String)>,
}

impl Canvas {
    /// An empty page with the three faces ready.
    pub(crate) fn new() -> Result<Self, PdfError> {
        Ok(Canvas {
            content: Content::new(),
            regular: Font::new(Style::Regular)?,
            bold: Font::new(Style::Bold)?,
            mono: Font::new(Style::Mono)?,
            links: Vec::new(),
        })
    }

    /// The face for `style`.
    pub(crate) fn font(&self, style: Style) -> &Font {
        match style {
            Style::Regular => &self.regular,
            Style::Bold => &self.bold,
            Style::Mono => &self.mono,
        }
    }

    fn font_mut(&mut self, style: Style) -> &mut Font {
        match style {
            Style::Regular => &mut self.regular,
            Style::Bold => &mut self.bold,
            Style::Mono => &mut self.mono,
        }
    }

    /// The width of `text` in `style` at `size`, points.
    pub(crate) fn width(&self, style: Style, size: f32, text: &str) -> f32 {
        self.font(style).width(text, size)
    }

    /// Draws one line of text with its baseline `baseline` points below the page top.
    pub(crate) fn text(
        &mut self,
        x: f32,
        baseline: f32,
        style: Style,
        size: f32,
        color: Rgb,
        text: &str,
    ) {
        if text.is_empty() {
            return;
        }
        let bytes = self.font_mut(style).encode(text);
        let name = FONT_NAMES
            .iter()
            .find(|(s, _)| *s == style)
            .map_or(&b"F1"[..], |(_, n)| *n);
        self.content
            .set_fill_rgb(color.0, color.1, color.2)
            .begin_text()
            .set_font(Name(name), size)
            .next_line(x, PAGE_HEIGHT - baseline)
            .show(Str(&bytes))
            .end_text();
    }

    /// Fills a rectangle whose top-left corner is `top` points below the page top.
    pub(crate) fn fill_rect(&mut self, x: f32, top: f32, width: f32, height: f32, color: Rgb) {
        self.content
            .set_fill_rgb(color.0, color.1, color.2)
            .rect(x, PAGE_HEIGHT - top - height, width, height)
            .fill_nonzero();
    }

    /// Fills many rectangles of one colour as one path (the QR code's modules). Each is
    /// `(x, top, width, height)`.
    pub(crate) fn fill_rects(&mut self, rects: &[(f32, f32, f32, f32)], color: Rgb) {
        if rects.is_empty() {
            return;
        }
        self.content.set_fill_rgb(color.0, color.1, color.2);
        for &(x, top, width, height) in rects {
            self.content
                .rect(x, PAGE_HEIGHT - top - height, width, height);
        }
        self.content.fill_nonzero();
    }

    /// Strokes a horizontal rule `y` points below the page top.
    pub(crate) fn hrule(&mut self, x1: f32, x2: f32, y: f32, width: f32, color: Rgb) {
        self.content
            .set_stroke_rgb(color.0, color.1, color.2)
            .set_line_width(width)
            .move_to(x1, PAGE_HEIGHT - y)
            .line_to(x2, PAGE_HEIGHT - y)
            .stroke();
    }

    /// Makes the area (top-down coordinates) a link to `uri`.
    pub(crate) fn link(&mut self, x: f32, top: f32, width: f32, height: f32, uri: &str) {
        self.links.push((
            Rect::new(x, PAGE_HEIGHT - top - height, x + width, PAGE_HEIGHT - top),
            uri.to_owned(),
        ));
    }

    /// Breaks `text` into lines no wider than `width` when set in `style` at `size`.
    ///
    /// Whitespace runs (including line breaks and tabs, which single-line fields should
    /// not hold but might) become one space, control characters are dropped; an empty text
    /// gives one empty line, so a row always has a height.
    pub(crate) fn wrap(&self, style: Style, size: f32, text: &str, width: f32) -> Vec<String> {
        let font = self.font(style);
        let cleaned: String = text
            .chars()
            .map(|c| {
                if c.is_whitespace() && c != '\u{a0}' {
                    ' '
                } else {
                    c
                }
            })
            .filter(|c| !c.is_control())
            .collect();
        let space = font.width(" ", size);
        let mut lines = Vec::new();
        let mut line = String::new();
        let mut line_width = 0.0;
        for word in cleaned.split(' ').filter(|w| !w.is_empty()) {
            let word_width = font.width(word, size);
            if !line.is_empty() && line_width + space + word_width <= width {
                line.push(' ');
                line.push_str(word);
                line_width += space + word_width;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if word_width <= width {
                line.push_str(word);
                line_width = word_width;
                continue;
            }
            // Wider than the column: break between characters.
            line_width = 0.0;
            for c in word.chars() {
                let mut buf = [0; 4];
                let cw = font.width(c.encode_utf8(&mut buf), size);
                if !line.is_empty() && line_width + cw > width {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                line.push(c);
                line_width += cw;
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// Everything drawn, the faces with the glyphs used, and the links: what the document
    /// writer needs.
    pub(crate) fn finish(self) -> (Vec<u8>, [Font; 3], Vec<(Rect, String)>) {
        (
            self.content.finish().to_vec(),
            [self.regular, self.bold, self.mono],
            self.links,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canvas() -> Canvas {
        Canvas::new().unwrap()
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_keeps_every_word() {
        let c = canvas();
        let text = "Envoi de lettres d'information sur nos produits et nos évènements";
        let lines = c.wrap(Style::Regular, 10.0, text, 120.0);
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(c.width(Style::Regular, 10.0, line) <= 120.0, "{line}");
        }
        assert_eq!(lines.join(" "), text);
    }

    #[test]
    fn a_word_wider_than_the_column_is_broken_between_characters() {
        let c = canvas();
        let hex = "ab".repeat(32);
        let lines = c.wrap(Style::Mono, 9.0, &hex, 100.0);
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(c.width(Style::Mono, 9.0, line) <= 100.0);
        }
        assert_eq!(lines.concat(), hex);
    }

    #[test]
    fn a_no_break_space_holds_words_together() {
        let c = canvas();
        let lines = c.wrap(Style::Regular, 10.0, "aaaa « bbbb\u{a0}cccc »", 60.0);
        assert!(
            lines.iter().any(|l| l.contains("bbbb\u{a0}cccc")),
            "{lines:?}"
        );
    }

    #[test]
    fn control_characters_and_line_breaks_do_not_reach_the_page() {
        let c = canvas();
        let lines = c.wrap(Style::Regular, 10.0, "a\nb\tc\u{7}d", 500.0);
        assert_eq!(lines, vec!["a b cd".to_owned()]);
    }

    #[test]
    fn empty_text_is_one_empty_line() {
        let c = canvas();
        assert_eq!(c.wrap(Style::Regular, 10.0, "", 100.0), vec![String::new()]);
    }
}
