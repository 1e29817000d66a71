import Foundation

/// Headless Chromium (Debian's `chromium`) driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: commands on the child's fd 3, replies and events on fd 4, each a
/// JSON message ended by a NUL byte), so no websocket client is needed. Clicks and key presses are
/// real input events at the element's position; JavaScript exceptions on the page are collected.
/// The browser is killed when the object goes away.
public final class HeadlessBrowser: @unchecked Sendable {
    // `@unchecked Sendable`: every use of the pipes, the buffer and the counters holds `lock`.
    public struct BrowserError: Error, CustomStringConvertible {
        public let description: String
        init(_ text: String) { description = text }
    }

    private let pid: pid_t
    private let toBrowser: Int32
    private let fromBrowser: Int32
    private let profile: TemporaryDirectory
    private let lock = NSLock()
    private var nextID = 0
    private var buffer = Data()
    private var session = ""
    private var closed = false
    private var pageExceptions: [String] = []

    /// Starts the browser with one page of `width` × `height` CSS pixels (`mobile` emulates a phone).
    public init(width: Int = 1280, height: Int = 900, mobile: Bool = false) throws {
        guard let executable = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw BrowserError("chromium not found: run `make deps` (TEST_PACKAGES has chromium)")
        }
        profile = try TemporaryDirectory(prefix: "hpm-chromium")
        var commands: [Int32] = [0, 0], replies: [Int32] = [0, 0]
        guard pipe(&commands) == 0, pipe(&replies) == 0 else { throw BrowserError("pipe: errno \(errno)") }
        // High, close-on-exec copies: the child gets exactly fds 3 and 4 whatever numbers pipe() chose.
        let childIn = fcntl(commands[0], F_DUPFD_CLOEXEC, 10), childOut = fcntl(replies[1], F_DUPFD_CLOEXEC, 10)
        toBrowser = fcntl(commands[1], F_DUPFD_CLOEXEC, 10)
        fromBrowser = fcntl(replies[0], F_DUPFD_CLOEXEC, 10)
        for fd in commands + replies { Foundation.close(fd) }
        defer { Foundation.close(childIn); Foundation.close(childOut) }

        let arguments = [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                         "--no-default-browser-check", "--disable-extensions", "--disable-background-networking", "--mute-audio",
                         "--hide-scrollbars", "--remote-debugging-pipe", "--user-data-dir=\(profile.path)",
                         "--window-size=\(width),\(height)", "about:blank"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, childIn, 3)
        posix_spawn_file_actions_adddup2(&actions, childOut, 4)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, profile.file("stderr.log"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // No other descriptor of the test process (e.g. hpsim's stdin pipe) may live on in the browser;
        // glibc ignores a close action on a descriptor that is not open (closed meanwhile by another test).
        let open = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
        for fd in Int32(5)...max(5, (open.max() ?? 0) + 64) { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, nil, argv, environ)
        guard status == 0 else {
            Foundation.close(toBrowser); Foundation.close(fromBrowser)
            throw BrowserError("posix_spawn \(executable): \(status)")
        }
        pid = child

        let target = try call("Target.createTarget", ["url": "about:blank"])
        guard let targetID = target["targetId"] as? String else { throw BrowserError("no targetId in \(target)") }
        let attached = try call("Target.attachToTarget", ["targetId": targetID, "flatten": true])
        guard let sessionID = attached["sessionId"] as? String else { throw BrowserError("no sessionId in \(attached)") }
        lock.withLock { session = sessionID }
        _ = try call("Runtime.enable", [:], page: true)
        _ = try call("Page.enable", [:], page: true)
        _ = try call("Emulation.setDeviceMetricsOverride",
                     ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile], page: true)
    }

    deinit { close() }

    /// Ends the browser: Browser.close, then SIGKILL if it has not exited within 3 s.
    public func close() {
        let first = lock.withLock { () -> Bool in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        _ = try? call("Browser.close", [:], timeout: 2)
        let deadline = Date().addingTimeInterval(3)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { kill(pid, SIGKILL); _ = waitpid(pid, &status, 0); break }
            usleep(20_000)
        }
        Foundation.close(toBrowser)
        Foundation.close(fromBrowser)
    }

    /// Uncaught exceptions the page's scripts threw so far.
    public var exceptions: [String] { lock.withLock { pageExceptions } }

    // MARK: Page

    public func navigate(_ url: String) throws {
        _ = try call("Page.navigate", ["url": url], page: true)
    }

    /// The value of a JavaScript expression (promises are awaited); nil for undefined/null.
    @discardableResult
    public func evaluate(_ expression: String) throws -> Any? {
        let reply = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true], page: true)
        if let details = reply["exceptionDetails"] as? [String: Any] {
            let text = ((details["exception"] as? [String: Any])?["description"] as? String) ?? (details["text"] as? String) ?? "\(details)"
            throw BrowserError("\(expression.prefix(120)): \(text)")
        }
        let result = reply["result"] as? [String: Any]
        return result?["value"]
    }

    /// Re-evaluates `expression` until it is truthy (not null, false, 0 or ""), or throws after `timeout` seconds.
    @discardableResult
    public func waitFor(_ what: String, _ expression: String, timeout: Double = 10) throws -> Any {
        let deadline = Date().addingTimeInterval(timeout)
        var last: Any?
        while true {
            last = try? evaluate(expression)
            if let value = last, Self.truthy(value) { return value }
            if Date() > deadline {
                let body = (try? evaluate("document.body ? document.body.innerText.slice(0, 1500) : ''")) as? String ?? ""
                throw BrowserError("timed out after \(timeout) s waiting for \(what) (last: \(String(describing: last)); exceptions: \(exceptions); page: \(body))")
            }
            usleep(50_000)
        }
    }

    /// A real mouse click at the centre of the first element matching `selector`.
    public func click(_ selector: String) throws {
        let (x, y) = try centre(selector)
        for type in ["mousePressed", "mouseReleased"] {
            _ = try call("Input.dispatchMouseEvent", ["type": type, "x": x, "y": y, "button": "left", "clickCount": 1], page: true)
        }
    }

    /// Focuses the element (by clicking it) and types `text` into it, replacing what it held.
    public func type(_ selector: String, _ text: String) throws {
        try click(selector)
        try evaluate("(() => { const e = document.querySelector(\(Self.quote(selector))); e.focus(); if (e.select) e.select(); })()")
        _ = try call("Input.insertText", ["text": text], page: true)
    }

    /// Picks an option of a `<select>` (as the keyboard or a touch picker would) and fires `change`.
    public func choose(_ selector: String, _ value: String) throws {
        try evaluate("""
        (() => { const e = document.querySelector(\(Self.quote(selector))); e.focus(); e.value = \(Self.quote(value));
          if (e.value !== \(Self.quote(value))) throw new Error('no option ' + \(Self.quote(value)));
          e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); })()
        """)
    }

    /// A key press (keyDown + keyUp) on the focused element: "Enter", "Tab", …
    public func press(_ key: String) throws {
        let codes: [String: Int] = ["Enter": 13, "Tab": 9, "Escape": 27, " ": 32]
        var params: [String: Any] = ["key": key, "code": key, "windowsVirtualKeyCode": codes[key] ?? 0]
        if key == "Enter" { params["text"] = "\r" }
        _ = try call("Input.dispatchKeyEvent", params.merging(["type": "keyDown"]) { $1 }, page: true)
        _ = try call("Input.dispatchKeyEvent", params.merging(["type": "keyUp"]) { $1 }, page: true)
    }

    /// Saves a PNG of the whole page (beyond the viewport) to `path`. A long page on a loaded 2-core
    /// machine took over 20 s once (make test, first pass), so the bound is 60 s.
    public func screenshot(_ path: String) throws {
        let reply = try call("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true], page: true, timeout: 60)
        guard let base64 = reply["data"] as? String, let png = Data(base64Encoded: base64) else { throw BrowserError("no screenshot data") }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try png.write(to: URL(fileURLWithPath: path))
    }

    private func centre(_ selector: String) throws -> (Double, Double) {
        let box = try evaluate("""
        (() => { const e = document.querySelector(\(Self.quote(selector))); if (!e) return null;
          e.scrollIntoView({block: 'center', inline: 'center'}); const r = e.getBoundingClientRect();
          return [r.left + r.width / 2, r.top + r.height / 2]; })()
        """) as? [Double]
        guard let box, box.count == 2 else { throw BrowserError("no element \(selector)") }
        return (box[0], box[1])
    }

    static func quote(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    static func truthy(_ value: Any) -> Bool {
        switch value {
        case let b as Bool: return b
        case let n as NSNumber: return n.doubleValue != 0
        case let s as String: return !s.isEmpty
        case is NSNull: return false
        default: return true
        }
    }

    // MARK: Protocol

    /// Sends one command (to the page's session when `page`) and waits for its reply; events in between are recorded.
    private func call(_ method: String, _ params: [String: Any], page: Bool = false, timeout: Double = 10) throws -> [String: Any] {
        try lock.withLock {
            nextID += 1
            let id = nextID
            var message: [String: Any] = ["id": id, "method": method, "params": params]
            if page { message["sessionId"] = session }
            var data = try JSONSerialization.data(withJSONObject: message)
            data.append(0)
            try data.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                var offset = 0
                while offset < raw.count {
                    let n = write(toBrowser, base + offset, raw.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw BrowserError("\(method): the browser's pipe is closed (errno \(errno))") }
                    offset += n
                }
            }
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                let reply = try nextMessage(deadline: deadline, method: method)
                if reply["id"] as? Int == id {
                    if let error = reply["error"] as? [String: Any] { throw BrowserError("\(method): \(error["message"] ?? error)") }
                    return reply["result"] as? [String: Any] ?? [:]
                }
                if reply["method"] as? String == "Runtime.exceptionThrown",
                   let details = (reply["params"] as? [String: Any])?["exceptionDetails"] as? [String: Any] {
                    let description = ((details["exception"] as? [String: Any])?["description"] as? String) ?? (details["text"] as? String) ?? ""
                    pageExceptions.append(description)
                }
            }
        }
    }

    /// The next NUL-terminated message (called with `lock` held).
    private func nextMessage(deadline: Date, method: String) throws -> [String: Any] {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let message = buffer[buffer.startIndex..<end]
                buffer = Data(buffer[buffer.index(after: end)...])
                return (try? JSONSerialization.jsonObject(with: message)) as? [String: Any] ?? [:]
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw BrowserError("\(method): no reply from the browser in time") }
            var descriptor = pollfd(fd: fromBrowser, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, 1) * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            guard ready >= 0 else { throw BrowserError("poll: errno \(errno)") }
            if ready == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(fromBrowser, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BrowserError("\(method): the browser exited (see \(profile.file("stderr.log")))") }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}
