import ControlProtocol
import Foundation
import Insight
import Testing
import TestSupport

/// The web console served by the real hpmanagerd, driven in real headless Chromium against hpsim.
/// Screenshots of each page go to `.build/test-artifacts/web-console/`.
@Suite("Web console: assets, fleet page, wizard, writes in headless Chromium", .harnessThreads, .serialized)
struct WebConsoleTests {
    @Test("assets: content types, ETag revalidation (304), no-cache, CSP; public with tokens while the API needs one")
    func assetsAreServed() async throws {
        let hash = APITokenHash.hash("console-secret")
        let stack = try await ConsoleStack(devices: [("a", "Lab")], http: """
          tokens:
            - {name: ops, role: operator, hash: "\(hash)"}
        """)
        let page = try RawHTTP.get(stack.base + "/")
        #expect(page.status == 200 && page.headers["content-type"] == "text/html; charset=utf-8", "\(page.status) \(page.headers)")
        #expect(page.body.contains("<main id=\"view\"") && page.body.contains("/console/app.js"))
        #expect(page.headers["cache-control"] == "no-cache" && page.headers["x-content-type-options"] == "nosniff")
        #expect(page.headers["content-security-policy"]?.contains("default-src 'self'") == true)
        let etag = try #require(page.headers["etag"])
        let again = try RawHTTP.get(stack.base + "/", headers: ["If-None-Match: \(etag)"])
        #expect(again.status == 304 && again.body.isEmpty, "\(again.status)")
        for (file, type) in [("app.js", "text/javascript; charset=utf-8"), ("console.css", "text/css; charset=utf-8"), ("favicon.svg", "image/svg+xml")] {
            let asset = try RawHTTP.get(stack.base + "/console/" + file)
            #expect(asset.status == 200 && asset.headers["content-type"] == type && !asset.body.isEmpty, "\(file): \(asset.status) \(asset.headers)")
        }
        let head = try RawHTTP.get(stack.base + "/console/chart.js", method: "HEAD")
        #expect(head.status == 200 && Int(head.headers["content-length"] ?? "") ?? 0 > 1000, "\(head.headers)")
        // Only the console's real files are public: anything else under /console needs the token, then is 404.
        #expect(try RawHTTP.get(stack.base + "/console/nope.js").status == 401)
        #expect(try RawHTTP.get(stack.base + "/console/nope.js", headers: ["Authorization: Bearer console-secret"]).status == 404)
        // The static files are public; every API call, the console's own endpoints included, needs the token.
        #expect(try stack.api.get("/api/console").status == 401)
        #expect(try stack.api.call("POST", "/api/test", json: "{}").status == 401)
        let authed = HTTPAPIClient(base: stack.base, token: "console-secret")
        let display = try authed.get("/api/console")
        #expect(display.status == 200 && display.object["refresh_interval"] as? Int == 120, "\(display.body)")
        // POST /api/test: a test read of an unsaved device, nothing stored; bad bodies are 400.
        let tested = try authed.call("POST", "/api/test", json: """
        {"name": "Unsaved", "model": "nibe_s1155", "connection": {"host": "127.0.0.1", "port": \(stack.sim.ports[0])}}
        """)
        #expect(tested.status == 200 && tested.object["id"] as? String == "unsaved" && (tested.object["values"] as? [Any])?.isEmpty == false, "\(tested.body.prefix(300))")
        #expect(try authed.get("/api/heatpumps").array.map { $0["id"] as? String } == ["a"])
        let badModel = try authed.call("POST", "/api/test", json: #"{"name":"x","model":"no_such","connection":{"host":"127.0.0.1"}}"#)
        #expect(badModel.status == 400 && badModel.errorCode == "invalid_device", "\(badModel.body)")
        #expect(try authed.call("POST", "/api/test", json: #"{"name":1}"#).status == 400)
    }

    @Test("fleet page lists the simulated fleet, filters by location, and shows a device going down over SSE")
    func fleetPage() async throws {
        let stack = try await ConsoleStack(devices: [("a", "Building A"), ("b", "Building A"), ("c", "Building B")])
        let browser = try HeadlessBrowser()
        defer { browser.close() }
        try browser.navigate(stack.base + "/")
        try browser.waitFor("three pumps polling", "document.querySelectorAll('#fleet-table tbody tr[data-state=polling]').length === 3", timeout: 15)
        try browser.waitFor("the live stream", "document.body.dataset.live === 'on'")
        let names = try browser.evaluate("[...document.querySelectorAll('#fleet-table tbody th a')].map(a => a.textContent).join(',')") as? String
        #expect(names == "Pump A,Pump B,Pump C")
        try browser.waitFor("key values with units", "document.querySelector('#fleet-table tbody tr[data-id=a] td:last-child').textContent.includes('°C')")
        try browser.screenshot(ConsoleStack.artifact("fleet.png"))
        // Keyboard: Tab moves from one filter to the next.
        try browser.evaluate("document.querySelector('select[name=location]').focus()")
        try browser.press("Tab")
        #expect(try browser.evaluate("document.activeElement.name") as? String == "manufacturer")

        try browser.choose("select[name=location]", "Building B")
        let visible = try browser.evaluate("[...document.querySelectorAll('#fleet-table tbody tr')].filter(r => !r.hidden).map(r => r.dataset.id).join(',')") as? String
        #expect(visible == "c")
        try browser.choose("select[name=location]", "")

        try stack.sim.command("down \(stack.sim.ports[1])")
        // display.yml's refresh_interval is 120 s, so this change can only have come over /api/stream.
        try browser.waitFor("b shown down", "(r => r.dataset.up === 'false' && r.dataset.state !== 'polling')(document.querySelector('tr[data-id=b]'))", timeout: 8)
        #expect(try browser.evaluate("document.querySelectorAll('#fleet-table tbody tr[data-state=polling]').length") as? Int == 2)
        try browser.screenshot(ConsoleStack.artifact("fleet-device-down.png"))
        #expect(browser.exceptions.isEmpty, "\(browser.exceptions)")

        let phone = try HeadlessBrowser(width: 390, height: 844, mobile: true)
        defer { phone.close() }
        try phone.navigate(stack.base + "/")
        try phone.waitFor("fleet on a phone", "document.querySelectorAll('#fleet-table tbody tr').length === 3 && document.body.dataset.ready === 'true'")
        // Nothing but the table's own scroller may be wider than the phone.
        #expect(try phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth") as? Bool == true)
        try phone.screenshot(ConsoleStack.artifact("fleet-phone.png"))
    }

    @Test("wizard: manufacturer, model and setup text, connection, test read with a rejected register, save; the new pump is polled")
    func wizardAddsDevice() async throws {
        let stack = try await ConsoleStack(devices: [("a", "Lab")], spare: 1)
        let newPort = stack.sim.ports[1]
        // The new pump answers Illegal Data Address for one register: the test read lists it as rejected.
        try stack.sim.command("exception \(newPort) 1 holding 206 2")
        let browser = try HeadlessBrowser()
        defer { browser.close() }
        try browser.navigate(stack.base + "/#/add")
        try browser.waitFor("wizard", "document.querySelector('#wiz-manufacturer option[value=NIBE]')")
        try browser.choose("#wiz-manufacturer", "NIBE")
        // NIBE has one model here: the wizard picks it.
        try browser.waitFor("the NIBE model", "document.querySelector('#wiz-model').value === 'nibe_s1155'")
        try browser.waitFor("setup text", "document.querySelector('#wiz-setup pre.setup')?.textContent.includes('Modbus TCP/IP')")
        try browser.type("#wiz-name", "Plant Room 2")
        try browser.type("#wiz-location", "Building C")
        try browser.type("#wiz-host", "127.0.0.1")
        try browser.type("#wiz-port", String(newPort))
        try browser.click("#wiz-test")
        try browser.waitFor("test read values", "document.querySelectorAll('#wiz-values tbody tr').length > 5", timeout: 10)
        #expect(try browser.evaluate("document.querySelector('#wiz-values tr[data-rejected=true][data-register=\"climate_system_1.room_setpoint\"]') !== null") as? Bool == true)
        #expect(try browser.evaluate("document.querySelector('#wiz-values').textContent.includes('°C')") as? Bool == true)
        try browser.screenshot(ConsoleStack.artifact("wizard-test-read.png"))
        #expect(try stack.api.get("/api/heatpumps").array.count == 1, "a test read stores nothing")

        try browser.click("#wiz-save")
        let id = try browser.waitFor("saved", "document.getElementById('wiz-saved').dataset.id") as? String
        #expect(id == "plant-room-2")
        let added = try stack.api.get("/api/heatpumps/plant-room-2")
        #expect(added.status == 200 && added.object["location"] as? String == "Building C", "\(added.body)")
        _ = try await eventually("plant-room-2 polled", timeout: 10) { (try? stack.api.get("/api/data/all"))?.object["plant-room-2"] != nil ? true : nil }
        try browser.click("#wiz-saved-link")
        try browser.waitFor("its device page", "document.body.dataset.page === 'device' && document.body.dataset.ready === 'true'")
        #expect(browser.exceptions.isEmpty, "\(browser.exceptions)")
    }

    @Test("device page shows COP where the model has inputs (NIBE: flow × ΔT × c_p ÷ power, checked by hand); the REST device endpoint includes it")
    func devicePageShowsCOP() async throws {
        let stack = try await ConsoleStack(devices: [("a", "Building A"), ("b", "Building B")])
        try stack.sim.command("compressor \(stack.sim.ports[0]) 1 on")
        try stack.sim.command("compressor \(stack.sim.ports[1]) 1 off")
        // The REST device endpoint lists the model's derived series; a's COP matches its own poll's registers.
        let cop = try await eventually("a's COP over REST", timeout: 10) { () -> Double? in
            let data = try stack.api.get("/api/data/a").object["values"] as? [String: Any] ?? [:]
            guard let cop = data["cop"] as? Double, let flow = data["flow_rate"] as? Double, let supply = data["supply_temp"] as? Double,
                  let ret = data["return_temp"] as? Double, let power = data["power_consumption"] as? Double else { return nil }
            let mean = (supply + ret) / 2
            let byHand = flow / 60 * HeatTransferFluid.water.density(celsius: mean) * HeatTransferFluid.water.specificHeat(celsius: mean) * (supply - ret) / power
            #expect(abs(cop - byHand) < 1e-9, "COP \(cop), by hand \(byHand)")
            return cop
        }
        #expect(cop > 2 && cop < 6, "\(cop)")
        let details = try stack.api.get("/api/heatpumps/a").object
        let derived = try #require(details["derived"] as? [[String: Any]])
        #expect(derived.map { $0["name"] as? String } == ["cop", "scop_day", "scop_month", "scop_season", "compressor_starts_total",
                                                           "compressor_runtime_seconds_total", "short_cycling", "compressor_starts_per_hour",
                                                           "compressor_run_seconds_per_start", "compressor_duty_ratio", "defrost_active",
                                                           "defrost_seconds_total", "defrost_share", "defrost_energy_kwh_total", "supply_deviation_celsius",
                                                           "supply_deficit_kelvin_seconds_total", "dhw_below_setpoint", "dhw_below_setpoint_seconds_total",
                                                           "degree_minute_balance"], "\(derived)")
        #expect(derived.first?["value"] is Double)
        // b's compressor is off: once a poll after the command is in, no COP value (not a 0). Until then
        // b's last poll may still be one from before the command, with the compressor running.
        _ = try await eventually("b's COP absent after its compressor stopped", timeout: 15) { () -> Bool? in
            let off = try stack.api.get("/api/heatpumps/b").object["derived"] as? [[String: Any]]
            return off?.first.map { $0["value"] == nil } == true ? true : nil
        }

        let browser = try HeadlessBrowser()
        defer { browser.close() }
        try browser.navigate(stack.base + "/#/device/a")
        try browser.waitFor("COP on the device page", "document.body.dataset.ready === 'true' && /^[0-9]+\\.[0-9]{2}$/.test(document.querySelector('#derived dd[data-derived=cop]')?.textContent ?? '')", timeout: 10)
        let shown = try #require(Double(try browser.evaluate("document.querySelector('#derived dd[data-derived=cop]')?.textContent ?? ''") as? String ?? ""))
        #expect(abs(shown - cop) < 1, "shown \(shown), REST \(cop): both from recent polls of a near-steady pump")
        #expect(try browser.evaluate("document.querySelector('#derived') !== null && document.querySelector('#derived dd[data-derived=defrost_active]') !== null") as? Bool == true,
                "NIBE has no defrost register; its defrost comes from ΔT reversal")
        // NIBE's register groups this device does not poll: no live-value rows, one chooser with a form.
        #expect(try browser.evaluate("document.querySelector('td.num[data-register=\"hot_water_circulation_enabled\"]') === null && document.querySelector('td.num[data-register=\"outdoor_temp\"]') !== null") as? Bool == true)
        #expect(try browser.evaluate("document.querySelectorAll('#other-register option').length") as? Int ?? 0 > 300, "unpolled writable registers in one chooser")
        #expect(try browser.evaluate("document.querySelectorAll('#other-write form').length") as? Int == 1)
        let unpolled = (details["registers"] as? [[String: Any]] ?? []).filter { $0["polled"] as? Bool == false }
        #expect(unpolled.count > 500 && unpolled.allSatisfy { $0["group"] is String }, "the REST body marks unpolled registers and their group")
        try browser.screenshot(ConsoleStack.artifact("device-cop.png"))
        try browser.navigate(stack.base + "/#/device/b")
        // b's compressor is off: its Performance card is there, its COP shows "–".
        try browser.waitFor("b's page without a COP", "document.querySelector('h1')?.textContent.includes('Pump B') && document.querySelector('#derived dd[data-derived=cop]')?.textContent === '–'", timeout: 10)
        #expect(browser.exceptions.isEmpty, "\(browser.exceptions)")
    }

    @Test("device page: a write typed into the form reaches hpsim; an EEPROM write over budget shows the 409 message; compare renders; settings show an error with its field, apply live and reset")
    func deviceWriteReachesSimulator() async throws {
        let stack = try await ConsoleStack(devices: [("a", "Building A"), ("b", "Building B")])
        let browser = try HeadlessBrowser()
        defer { browser.close() }
        try browser.navigate(stack.base + "/#/device/a")
        try browser.waitFor("device page", "document.body.dataset.ready === 'true' && document.querySelector('form.write[data-register=\"climate_system_1.room_setpoint\"]')")
        try browser.waitFor("live values with units", "document.querySelector('td[data-register=outdoor_temp]')?.textContent.includes('°C')", timeout: 10)
        let hint = try browser.evaluate("document.querySelector('form.write[data-register=\"climate_system_1.room_setpoint\"] .hint').textContent") as? String
        #expect(hint?.contains("5 … 30 °C") == true, "\(hint ?? "")")

        // Keyboard only: type the value, press Enter.
        try browser.type("#write-climate_system_1_room_setpoint", "22.5")
        try browser.press("Enter")
        try browser.waitFor("write result", "document.querySelector('form.write[data-register=\"climate_system_1.room_setpoint\"]').dataset.result")
        let result = try browser.evaluate("document.querySelector('form.write[data-register=\"climate_system_1.room_setpoint\"] output').textContent") as? String
        #expect(result?.contains("verified") == true && result?.contains("22.5 °C") == true, "\(result ?? "")")
        #expect(try stack.sim.command("get \(stack.sim.ports[0]) 1 holding 206")["value"] as? Int == 225)

        // EEPROM budget: the second write of an EEPROM register within eeprom_min_interval is refused; the form says why.
        for value in ["1", "0"] {
            try browser.evaluate("delete document.querySelector('form.write[data-register=sg_ready_via_api]').dataset.result")
            try browser.type("#write-sg_ready_via_api", value)
            try browser.click("form.write[data-register=sg_ready_via_api] button")
            try browser.waitFor("eeprom write \(value)", "document.querySelector('form.write[data-register=sg_ready_via_api]').dataset.result")
        }
        #expect(try browser.evaluate("document.querySelector('form.write[data-register=sg_ready_via_api]').dataset.result") as? String == "eeprom_budget")
        let refusal = try browser.evaluate("document.querySelector('form.write[data-register=sg_ready_via_api] output').textContent") as? String
        #expect(refusal?.contains("EEPROM") == true, "\(refusal ?? "")")
        // Once the store holds points, the 24 h button (a real click) redraws the page with them.
        _ = try await eventually("history of a", timeout: 10) { () -> Bool? in
            let series = (try? stack.api.get("/api/heatpumps/a/history?minutes=5"))?.object["series"] as? [String: Any]
            return (series?["outdoor_temp"] as? [Any])?.isEmpty == false ? true : nil
        }
        try browser.click(".seg button:nth-child(2)")
        try browser.waitFor("24 h history chart", "location.hash.includes('range=24h') && document.body.dataset.ready === 'true' && document.querySelector('section svg.chart path.line')", timeout: 10)
        #expect(try browser.evaluate("document.querySelector('.seg button[aria-pressed=true]').textContent") as? String == "24 h")
        try browser.screenshot(ConsoleStack.artifact("device.png"))

        try browser.navigate(stack.base + "/#/compare?ids=a,b&regs=outdoor_temp,climate_system_1.room_setpoint&range=1h")
        try browser.waitFor("comparison", "document.body.dataset.page === 'compare' && document.body.dataset.ready === 'true' && document.querySelector('#compare-table')")
        #expect(try browser.evaluate("document.querySelectorAll('#compare-table thead th').length") as? Int == 3)
        #expect(try browser.evaluate("document.querySelectorAll('svg.chart').length") as? Int == 2)
        try browser.screenshot(ConsoleStack.artifact("compare.png"))

        try browser.navigate(stack.base + "/#/settings")
        try browser.waitFor("settings", "document.body.dataset.page === 'settings' && document.body.dataset.ready === 'true' && document.querySelector('#settings-form')")
        // A bad value: the API's code is shown and the field marked; nothing changes.
        try browser.type("#set-collector-batch_size", "0")
        try browser.click("#settings-form button[type=submit]")
        try browser.waitFor("settings refusal", "document.getElementById('settings-result').textContent.includes('[out_of_range]')")
        #expect(try browser.evaluate("document.getElementById('set-collector-batch_size').getAttribute('aria-invalid')") as? String == "true")
        try browser.screenshot(ConsoleStack.artifact("settings-error.png"))
        // A good one applies live (loopback without tokens is admin) and the page shows it came from the runtime.
        try browser.type("#set-collector-batch_size", "100")
        try browser.type("#set-collector-poll_interval", "2")
        try browser.click("#settings-form button[type=submit]")
        try browser.waitFor("settings applied", "document.getElementById('settings-result').textContent === 'applied: collector.poll_interval'")
        #expect(try browser.evaluate("document.querySelector('[data-source=\"collector.poll_interval\"]').textContent") as? String == " (changed live)")
        let running = try stack.api.get("/api/settings").object["collector"] as? [String: Any]
        #expect(running?["poll_interval"] as? Double == 2)
        // Back to collector.yml's value with one button.
        try browser.click("[data-reset=\"collector.poll_interval\"]")
        try browser.waitFor("reset", "document.getElementById('settings-result').textContent === 'applied: collector.poll_interval' && !document.querySelector('[data-reset]')")
        #expect((try stack.api.get("/api/settings").object["collector"] as? [String: Any])?["poll_interval"] as? Double == 0.5)
        try browser.screenshot(ConsoleStack.artifact("settings.png"))
        #expect(browser.exceptions.isEmpty, "\(browser.exceptions)")
    }
}
