import Mustache

/// Fields by name without reflection: a 10,000-node map reads about 100,000 of them.
extension NodeCell: MustacheParent {
    /// The field named `key`, or nil (the template then looks further up its context).
    public func child(named key: String) -> Any? {
        switch key {
        case "index": index
        case "name": name
        case "classes": classes
        case "symbol": symbol
        case "hasSymbol": hasSymbol
        case "stateWords": stateWords
        case "pool": pool
        case "changed": changed
        case "changeSymbol": changeSymbol
        case "change": change
        case "label": label
        default: nil
        }
    }
}
