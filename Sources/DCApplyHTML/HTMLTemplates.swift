import Foundation
import Mustache

/// The pages' Mustache templates, parsed once. They are Swift string literals in `Templates/`,
/// so the binary needs no resource bundle.
enum HTMLTemplates {
    /// Parsed at first use. A template that does not parse is a programming error that every
    /// test rendering a page catches, so it is reported in the page rather than thrown.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        let templates: [(String, String)] = [
            ("plan", PageTemplates.plan), ("status", PageTemplates.status), ("gitops", PageTemplates.gitops),
            ("problems", PageTemplates.problems), ("energy", PageTemplates.energy), ("tables", PageTemplates.tables),
            ("data", PageTemplates.data), ("map", MapTemplates.map), ("domain", MapTemplates.domain), ("detail", MapTemplates.detail),
        ]
        for (name, text) in templates {
            do {
                try library.register(text, named: name)
            } catch {
                // Plain text always parses; the page then says which template is broken.
                try? library.register("<p>template \(name) does not parse</p>", named: name)
            }
        }
        return library
    }()

    /// Renders `object` with the named template.
    static func render(_ object: Any, template name: String) -> String {
        library.render(object, withTemplate: name) ?? "<p>no template \(name)</p>"
    }

    /// JSON for a `<script type="application/json">`: `<` escaped so that no `</script>` in a
    /// label can end the element early.
    static func scriptJSON<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "<", with: "\\u003c")
    }
}
