//! The report for a browser: one self-contained HTML file (inline CSS, the pictures as
//! inline SVG, nothing loaded from elsewhere, no script), readable on a phone and in print.
//! Its text is the Markdown report's, rendered by pulldown-cmark, so the two never
//! disagree; each picture reference becomes the picture itself.

use super::Report;
use pulldown_cmark::{html, Event, Options, Parser, Tag, TagEnd};

/// Inline style: system fonts, tables that scroll sideways on a narrow screen instead of
/// overflowing it, pictures that shrink to the width, and no page break inside a table
/// or picture when printed.
const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;line-height:1.45;\
color:#1b1b1b;background:#fff;margin:0}\
main{max-width:1100px;margin:0 auto;padding:1rem}\
h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:2rem;border-bottom:1px solid #ddd}\
h3{font-size:1.1rem}\
blockquote{margin:0;padding:.5rem 1rem;border-left:4px solid #0072B2;background:#f4f8fb}\
table{border-collapse:collapse;display:block;overflow-x:auto;margin:.5rem 0;font-size:.9rem}\
th,td{border:1px solid #ddd;padding:.25rem .5rem;white-space:nowrap}\
th{background:#f2f2f2}\
figure{margin:1rem 0}figure svg{max-width:100%;height:auto}\
code{font-family:ui-monospace,Menlo,Consolas,monospace}\
@media print{main{max-width:none}table,figure{break-inside:avoid}}";

/// A whole page around `body` (already HTML).
pub fn page(title: &str, body: &str) -> String {
    let title = escape(title);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n\
         </body>\n</html>\n"
    )
}

/// `s` with HTML's special characters escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Markdown `md` as HTML, each image whose file is in `pictures` (`(file, svg)`) replaced
/// by that SVG in a `<figure>` captioned with its alt text; an image without its picture
/// keeps a plain caption.
pub fn markdown_to_html(md: &str, pictures: &[(String, String)]) -> String {
    let mut events = Vec::new();
    let mut image: Option<(String, String)> = None;
    for e in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match (&mut image, e) {
            (None, Event::Start(Tag::Image { dest_url, .. })) => {
                image = Some((dest_url.to_string(), String::new()));
            }
            (Some((_, alt)), Event::Text(t)) => alt.push_str(&t),
            (Some(_), Event::End(TagEnd::Image)) => {
                let (file, alt) = image.take().expect("inside an image");
                let svg = pictures.iter().find(|(f, _)| *f == file).map(|p| &p.1);
                let inner = match svg {
                    Some(svg) => svg.trim().to_string(),
                    None => String::new(),
                };
                events.push(Event::Html(
                    format!(
                        "<figure id=\"{}\">{inner}<figcaption>{}</figcaption></figure>",
                        escape(&file),
                        escape(&alt)
                    )
                    .into(),
                ));
            }
            (Some(_), _) => {}
            // Text that looks like markup (a scenario's description, say) stays text.
            (None, Event::Html(h) | Event::InlineHtml(h)) => events.push(Event::Text(h)),
            (None, e) => events.push(e),
        }
    }
    // A picture alone in its paragraph is a figure of its own (no <figure> inside <p>).
    let mut tidy: Vec<Event> = Vec::with_capacity(events.len());
    for e in events {
        tidy.push(e);
        let n = tidy.len();
        if n >= 3 {
            if let (Event::Start(Tag::Paragraph), Event::Html(h), Event::End(TagEnd::Paragraph)) =
                (&tidy[n - 3], &tidy[n - 2], &tidy[n - 1])
            {
                if h.starts_with("<figure") {
                    let fig = tidy.remove(n - 2);
                    tidy.truncate(n - 3);
                    tidy.push(fig);
                }
            }
        }
    }
    let mut out = String::new();
    html::push_html(&mut out, tidy.into_iter());
    out
}

impl Report {
    /// The report as one self-contained HTML page; `pictures` are the run's pictures,
    /// `(file name, SVG)`, which the page holds inline.
    pub fn to_html(&self, pictures: &[(String, String)]) -> String {
        let body = markdown_to_html(&self.to_markdown(), pictures);
        page(&format!("hbsim report: {}", self.scenario.name), &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_inlined_and_text_is_escaped() {
        let md = "# t <x>\n\n![the latency](a.svg)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
        let pics = vec![("a.svg".to_string(), "<svg><rect/></svg>\n".to_string())];
        let h = markdown_to_html(md, &pics);
        assert!(h.contains("<figure id=\"a.svg\"><svg><rect/></svg><figcaption>the latency</figcaption></figure>"), "{h}");
        assert!(!h.contains("<p><figure"), "{h}");
        assert!(h.contains("<h1>t &lt;x&gt;</h1>"), "{h}");
        assert!(h.contains("<table>"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        let p = page("a & b", &h);
        assert!(p.starts_with("<!DOCTYPE html>"));
        assert!(p.contains("<title>a &amp; b</title>"));
        assert!(!p.contains("<script") && !p.contains("http://") && !p.contains("https://"));
    }
}
