import Foundation

/// One browser driven over W3C WebDriver: open a page, find and click elements, read text, run
/// a script. Closed by `close()`.
public struct WebDriverSession: Sendable {
    let driver: ChromeDriver
    public let id: String

    private static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    private func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> Any? {
        let answer = try driver.request(method, "/session/\(id)\(path)", body)
        if let value = answer["value"] as? [String: Any], let error = value["error"] as? String {
            throw WebDriverError(description: "\(method) \(path): \(error): \(value["message"] ?? "")")
        }
        return answer["value"]
    }

    /// Navigates and waits for the page to load.
    public func open(_ url: String) throws { _ = try call("POST", "/url", ["url": url]) }

    /// The first element matching a CSS selector.
    public func element(_ selector: String) throws -> String {
        guard let value = try call("POST", "/element", ["using": "css selector", "value": selector]) as? [String: Any],
              let element = value[Self.elementKey] as? String else {
            throw WebDriverError(description: "no element \(selector)")
        }
        return element
    }

    /// Clicks the element as a person would (scrolls it into view; fails if covered).
    public func click(_ selector: String) throws { _ = try call("POST", "/element/\(try element(selector))/click", [:]) }

    /// Its rendered text.
    public func text(_ selector: String) throws -> String { (try call("GET", "/element/\(try element(selector))/text") as? String) ?? "" }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its JSON result.
    public func execute(_ script: String, _ args: [Any] = []) throws -> Any? {
        try call("POST", "/execute/sync", ["script": script, "args": args])
    }

    /// Polls `script` until it returns true, at most `timeout` seconds.
    public func waitUntil(_ what: String, timeout: Double = 20, _ script: String) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if try execute(script) as? Bool == true { return }
            guard Date() < deadline else { throw WebDriverError(description: "timed out waiting for \(what)") }
            usleep(100_000)
        }
    }

    /// A PNG of the window.
    public func screenshot() throws -> Data {
        guard let base64 = try call("GET", "/screenshot") as? String, let data = Data(base64Encoded: base64) else {
            throw WebDriverError(description: "no screenshot")
        }
        return data
    }

    /// Closes the browser.
    public func close() { _ = try? call("DELETE", "") }
}
