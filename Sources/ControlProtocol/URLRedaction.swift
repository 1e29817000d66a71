import Foundation

/// URLs as the API shows them: credentials in the user-info part (`user:pass@`) and in secret-looking
/// query parameters (InfluxDB 1.x `p`, `token`, …) are replaced, as Prometheus shows `<secret>`.
public enum URLRedaction {
    public static let placeholder = "redacted"
    static let secretQueryNames: Set<String> = ["p", "password", "pass", "token", "secret", "api_key", "apikey", "key"]

    public static func redact(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return redactUnparsed(url) }
        if components.password != nil {
            components.password = placeholder
        } else if components.user != nil {
            components.user = placeholder  // a bare user-info is often the token itself
        }
        if let items = components.queryItems {
            components.queryItems = items.map { item in
                secretQueryNames.contains(item.name.lowercased()) ? URLQueryItem(name: item.name, value: placeholder) : item
            }
        }
        return components.string ?? redactUnparsed(url)
    }

    /// Without a parse: everything between `://` and the last `@` of the authority goes.
    private static func redactUnparsed(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url.contains("@") ? placeholder : url }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + placeholder + String(url[at...])
    }
}
