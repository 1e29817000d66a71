import HPCore
import Testing

@Suite("collector.yml notify: channels, routes, quiet hours; errors name file, line and field; secrets only from files or env", .harnessThreads)
struct NotifyConfigTests {
    let loader = ConfigLoader(builtinModelFiles: [], environment: ["SMTP_HOST": "mail.example.org"])

    func load(_ notify: String) throws -> NotifySettings {
        try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "collector.yml": "notify:\n" + notify]).collector.notify
    }

    static let full = """
      outbox: {max_age: 2h, max_rows: 500}
      retry: {initial: 1s, max: 1m}
      channels:
        - {name: hook, type: webhook, url: "https://hooks.example.org/x", headers: {X-Source: hpmanager}, token_file: /etc/hpm/hook.token}
        - name: mail
          type: email
          url: smtp://${SMTP_HOST}:587
          from: hpm@example.org
          to: [ops@example.org, "facility@example.org"]
          username: hpm
          password_file: /etc/hpm/smtp.password
        - {name: push, type: ntfy, url: "https://ntfy.sh/boiler-room", priority: 4, tags: [house]}
        - {name: got, type: gotify, url: "https://gotify.example.org", token_env: GOTIFY_TOKEN}
        - {name: am, type: alertmanager, url: "http://127.0.0.1:9093"}
      routes:
        - name: night
          severity: critical
          location: [Building A, Building B]
          channels: [mail, push]
          group_by: [location]
          group_wait: 10s
          group_interval: 2m
          repeat_interval: 1h
          quiet_hours: {start: "22:00", end: "07:00", days: [mon, tue], timezone: Europe/Berlin, critical_bypass: true}
        - {channels: [hook, am], send_resolved: false}
    """

    @Test("a full section parses with its defaults")
    func full() throws {
        let n = try load(Self.full)
        #expect(n.enabled && n.channels.map(\.kind) == [.webhook, .email, .ntfy, .gotify, .alertmanager])
        #expect(n.outboxMaxAge == 7200 && n.outboxMaxRows == 500 && n.retryInitial == 1 && n.retryMax == 60)
        let mail = try #require(n.channel(named: "mail"))
        #expect(mail.url == "smtp://mail.example.org:587" && mail.starttls && mail.to.count == 2 && mail.passwordFile == "/etc/hpm/smtp.password")
        #expect(n.channel(named: "hook")?.headers == ["X-Source": "hpmanager"])
        let night = n.routes[0]
        #expect(night.severities == ["critical"] && night.locations == ["Building A", "Building B"] && night.groupBy == ["location"])
        #expect(night.groupWait == 10 && night.groupInterval == 120 && night.repeatInterval == 3600)
        #expect(night.quietHours == QuietHours(start: 22 * 60, end: 7 * 60, weekdays: [2, 3], timezone: "Europe/Berlin", criticalBypass: true))
        #expect(n.routes[1].name == "route2" && n.routes[1].groupBy == ["location", "alert"] && !n.routes[1].sendResolved)
    }

    struct Bad: Sendable, CustomStringConvertible {
        var yaml: String
        var line: Int
        var field: String
        var says: String
        var description: String { says }
    }

    static let bad: [Bad] = [
        Bad(yaml: "  channels:\n    - {name: a, type: pager, url: \"http://x\"}\n  routes: [{channels: [a]}]\n", line: 3, field: "notify.channels[0].type", says: "type must be one of"),
        Bad(yaml: "  channels:\n    - {name: a, type: webhook, url: \"ftp://x\"}\n", line: 3, field: "notify.channels[0].url", says: "must start with http:// or https://"),
        Bad(yaml: "  channels:\n    - {name: a, type: webhook, url: \"https://u:pw@x/y\"}\n", line: 3, field: "notify.channels[0].url", says: "must not hold user info"),
        Bad(yaml: "  channels:\n    - {name: a, type: ntfy, url: \"https://x/t\", token: s3cret}\n", line: 3, field: "notify.channels[0].token", says: "token_file or token_env only"),
        Bad(yaml: "  channels:\n    - {name: m, type: email, url: \"smtp://x:25\", from: a@b.c, to: [x@y.z], password: pw}\n", line: 3,
            field: "notify.channels[0].password", says: "password_file or password_env only"),
        Bad(yaml: "  channels:\n    - {name: m, type: email, url: \"smtp://x:25\", to: [x@y.z]}\n", line: 3, field: "notify.channels[0].from", says: "required key 'from'"),
        Bad(yaml: "  channels:\n    - {name: g, type: gotify, url: \"http://x\"}\n", line: 3, field: "notify.channels[0]", says: "token_file or token_env"),
        Bad(yaml: "  channels:\n    - {name: a, type: webhook, url: \"http://x\", headers: {Authorization: Bearer x}}\n", line: 3,
            field: "notify.channels[0].headers.Authorization", says: "set by hpmanager"),
        Bad(yaml: "  channels:\n    - {name: a, type: webhook, url: \"http://x\"}\n  routes:\n    - {channels: [b]}\n", line: 5, field: "notify.routes[0].channels", says: "no channel named \"b\""),
        Bad(yaml: "  channels:\n    - {name: a, type: webhook, url: \"http://x\"}\n  routes:\n    - {channels: [a], group_by: [building]}\n", line: 5,
            field: "notify.routes[0].group_by", says: "group_by labels are"),
        Bad(yaml: "  channels:\n    - {name: a, type: webhook, url: \"http://x\"}\n  routes:\n    - {channels: [a], quiet_hours: {start: \"25:00\", end: \"07:00\"}}\n", line: 5,
            field: "notify.routes[0].quiet_hours.start", says: "expected a time HH:MM"),
        Bad(yaml: "  channels:\n    - {name: a, type: webhook, url: \"http://x\"}\n  routes:\n    - {channels: [a], quiet_hours: {start: \"22:00\", end: \"07:00\", timezone: Mars/Olympus}}\n", line: 5,
            field: "notify.routes[0].quiet_hours.timezone", says: "unknown time zone"),
        Bad(yaml: "  channels:\n    - {name: a, type: webhook, url: \"http://x\"}\n  routes:\n    - {channels: [a], repeat_interval: 0}\n", line: 5,
            field: "notify.routes[0].repeat_interval", says: "must be greater than 0"),
        Bad(yaml: "  channels:\n    - {name: a, type: webhook, url: \"http://x\"}\n    - {name: a, type: webhook, url: \"http://y\"}\n  routes: [{channels: [a]}]\n", line: 4,
            field: "notify.channels[1]", says: "used twice"),
        Bad(yaml: "  channels:\n    - {name: a, type: webhook, url: \"http://x\"}\n", line: 2, field: "notify", says: "at least one route"),
        Bad(yaml: "  chanels: []\n", line: 2, field: "notify.chanels", says: "did you mean 'channels'"),
    ]

    @Test("mistakes are rejected with the line and field at fault", arguments: bad)
    func rejects(_ bad: Bad) throws {
        do {
            _ = try load(bad.yaml)
            Issue.record("accepted: \(bad.yaml)")
        } catch let errors as ConfigErrors {
            let error = try #require(errors.errors.first)
            #expect(error.file.hasSuffix("collector.yml"))
            #expect(error.line == bad.line, "\(error)")
            #expect(error.field == bad.field, "\(error)")
            #expect(error.message.contains(bad.says), "\(error)")
            #expect(!error.description.contains("s3cret") && !error.description.contains(":pw@"))
        }
    }
}
