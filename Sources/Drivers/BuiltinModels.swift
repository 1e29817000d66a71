/// The vendor models that ship with hpmanager, as `registers.yml`-schema YAML embedded in the binary.
public enum BuiltinModels {
    /// (file name, YAML text) for every built-in model file.
    public static var files: [(name: String, text: String)] {
        [
            ("idm_navigator.yml", String(decoding: PackageResources.idm_navigator_yml, as: UTF8.self)),
            ("nibe_s.yml", String(decoding: PackageResources.nibe_s_yml, as: UTF8.self)),
            ("luxtronik.yml", String(decoding: PackageResources.luxtronik_yml, as: UTF8.self)),
            ("daikin_altherma.yml", String(decoding: PackageResources.daikin_altherma_yml, as: UTF8.self)),
            ("stiebel_eltron_wpm.yml", String(decoding: PackageResources.stiebel_eltron_wpm_yml, as: UTF8.self)),
        ]
    }
}
