public enum DCApplyCoreVersion { public static let string = "0.1.0" }
