/// The v1 contract as data: the envelope, each kind's `spec`, and the inventory.
public enum ManifestSchemas {
    public static let apiVersion = "dcapply/v1"

    static let labels = FieldType.map(key: .labelKey, value: .string())

    static let selector = FieldType.object(ObjectSchema([
        FieldSchema("matchLabels", labels, "labels a node must carry with exactly these values"),
        FieldSchema("matchExpressions", .list(.object(ObjectSchema([
            FieldSchema("key", .string(.labelKey), required: true, "the label key"),
            FieldSchema("operator", .enumeration(LabelSelector.Operator.allCases.map(\.rawValue)), required: true, "In, NotIn, Exists, DoesNotExist, Gt or Lt"),
            FieldSchema("values", .list(.string()), "values for In and NotIn; one integer for Gt and Lt; none for Exists and DoesNotExist"),
        ]))), "requirements on labels, all of which must hold"),
    ]))

    static let resources = FieldType.map(key: .resourceKey, value: .number())

    public static let metadata = ObjectSchema([
        FieldSchema("name", .string(.dnsLabel), required: true, "a DNS label, unique per kind"),
        FieldSchema("labels", labels, "string to string, for people and selectors"),
        FieldSchema("annotations", .map(key: .any, value: .string()), "string to string, never interpreted"),
    ])

    /// The `spec` of each kind.
    public static func spec(of kind: Kind) -> ObjectSchema {
        switch kind {
        case .site: return ObjectSchema([
            FieldSchema("failureDomains", .list(.string(.labelKey), minItems: 1), required: true, "node label keys, coarse to fine; every node carries them"),
            FieldSchema("provider", .object(ObjectSchema([
                FieldSchema("local", .object(ObjectSchema([
                    FieldSchema("inventory", .string(), required: true, "path of the inventory file, relative to this manifest"),
                ])), "the hardware described in a YAML inventory file"),
                FieldSchema("redfish", .object(ObjectSchema([
                    FieldSchema("endpoints", .list(.string(), minItems: 1), "Redfish service roots"),
                    FieldSchema("endpointsFile", .string(), "a file with one service root URL a line"),
                    FieldSchema("usernameFrom", .string(.secretReference), "env:NAME or file:PATH"),
                    FieldSchema("passwordFrom", .string(.secretReference), "env:NAME or file:PATH"),
                    FieldSchema("caFile", .string(), "CA bundle to verify the BMCs' TLS certificates"),
                    FieldSchema("insecureSkipVerify", .boolean, "skip TLS verification (warned about)"),
                    FieldSchema("concurrency", .integer(minimum: 1), "BMCs contacted at once"),
                    FieldSchema("labelsFrom", .string(), "YAML file mapping systems to node names and labels"),
                ], exactlyOneOf: ["endpoints", "endpointsFile"], atMostOneOf: ["caFile", "insecureSkipVerify"])), "BMCs speaking Redfish"),
                FieldSchema("exec", .object(ObjectSchema([
                    FieldSchema("command", .list(.string(), minItems: 1), required: true, "program and arguments, relative to this manifest's folder; JSON over stdin/stdout"),
                    FieldSchema("timeout", .string(.duration), "per call; default 60s"),
                ])), "an external program"),
            ], exactlyOneOf: ["local", "redfish", "exec"])), required: true, "exactly one of local, redfish, exec"),
            FieldSchema("actuators", .list(.object(ObjectSchema([
                FieldSchema("slurm", .object(ObjectSchema([
                    FieldSchema("conf", .string(), "SLURM_CONF for scontrol and sinfo; default: the environment's"),
                    FieldSchema("prefix", .string(), "partitions and reservations are named prefix + pool or workload name"),
                    FieldSchema("features", .list(.string(.labelKey)), "node label keys mirrored into Slurm node features as key:value"),
                    FieldSchema("drainTimeout", .string(.duration), "how long to wait for jobs to leave a node before power-off; default 10m"),
                ])), "a Slurm controller, driven with scontrol and sinfo"),
                FieldSchema("exec", .object(ObjectSchema([
                    FieldSchema("command", .list(.string(), minItems: 1), required: true, "program and arguments, relative to this manifest's folder; JSON over stdin/stdout"),
                    FieldSchema("timeout", .string(.duration), "per call; default 60s"),
                ])), "an external program speaking the exec protocol"),
            ], exactlyOneOf: ["slurm", "exec"]))), "systems that carry the plan beyond power, each exactly one of slurm, exec"),
        ])
        case .redundancyPolicy: return ObjectSchema([
            FieldSchema("failureDomain", .string(.labelKey), required: true, "a label key listed in the Site's failureDomains"),
            FieldSchema("maxPerDomain", .integer(minimum: 1), "at most this many members in any one domain"),
            FieldSchema("minDomains", .integer(minimum: 1), "members span at least this many domains"),
            FieldSchema("spares", .integer(), "pools only: extra healthy nodes held beyond the size"),
            FieldSchema("maxUnavailable", .integer(), "members of one target disrupted at the same time during apply"),
        ])
        case .hardwarePool: return ObjectSchema([
            FieldSchema("site", .string(.dnsLabel), required: true, "the Site's name"),
            FieldSchema("nodeSelector", selector, "a label selector"),
            FieldSchema("gpuModel", .string(), "nodes whose GPU model is exactly this"),
            FieldSchema("minGpuMemoryGiB", .number(), "nodes whose GPUs have at least this memory"),
            FieldSchema("size", .object(ObjectSchema([
                FieldSchema("nodes", .integer(), "whole nodes"),
                FieldSchema("gpus", .integer(), "GPUs, met with whole nodes"),
            ], exactlyOneOf: ["nodes", "gpus"])), "one of {nodes: N} or {gpus: N}; absent: every matching healthy node"),
            FieldSchema("redundancy", .string(.dnsLabel), "a RedundancyPolicy's name"),
        ])
        case .workload: return ObjectSchema([
            FieldSchema("pool", .string(.dnsLabel), required: true, "the HardwarePool's name"),
            FieldSchema("tenant", .string(.dnsLabel), "an AccessPolicy that grants use on the pool"),
            FieldSchema("replicas", .integer(), required: true, "how many replicas"),
            FieldSchema("resources", resources, required: true, "per replica, e.g. {gpus: 4, cpuCores: 32, memoryGiB: 256}"),
            FieldSchema("redundancy", .string(.dnsLabel), "a RedundancyPolicy's name"),
            FieldSchema("colocate", .string(.labelKey), "label key: a gang's nodes share its value"),
            FieldSchema("priority", .integer(minimum: -1_000_000_000, maximum: 1_000_000_000), "higher is placed first when short; default 0"),
        ])
        case .storageTier: return ObjectSchema([
            FieldSchema("site", .string(.dnsLabel), required: true, "the Site's name"),
            FieldSchema("media", .enumeration(Media.allCases.map(\.rawValue)), required: true, "nvme, ssd or hdd"),
            FieldSchema("usableTiB", .number(minimum: 0, exclusiveMinimum: true), required: true, "usable capacity in TiB"),
            FieldSchema("protection", .object(ObjectSchema([
                FieldSchema("replicas", .integer(minimum: 1), "copies, each in a different failure domain"),
                FieldSchema("erasure", .object(ObjectSchema([
                    FieldSchema("data", .integer(minimum: 1), required: true, "data chunks per stripe"),
                    FieldSchema("parity", .integer(), required: true, "parity chunks per stripe"),
                ])), "erasure coding"),
            ], exactlyOneOf: ["replicas", "erasure"])), required: true, "{replicas: r} or {erasure: {data: k, parity: m}}"),
            FieldSchema("redundancy", .string(.dnsLabel), "a RedundancyPolicy whose failureDomain spreads the data (default: node)"),
            FieldSchema("encryption", .enumeration(["required", "optional"]), "required: self-encrypting drives only"),
            FieldSchema("nodeSelector", selector, "a label selector"),
        ])
        case .accessPolicy: return ObjectSchema([
            FieldSchema("members", .list(.object(ObjectSchema([
                FieldSchema("user", .string(), required: true, "the person's identity, such as an email address"),
                FieldSchema("keys", .list(.string()), "public keys whose signatures prove this user"),
            ]))), "people in the group"),
            FieldSchema("rules", .list(.object(ObjectSchema([
                FieldSchema("kinds", .list(.enumeration(Kind.allCases.map(\.rawValue)), minItems: 1), required: true, "manifest kinds"),
                FieldSchema("names", .list(.string()), "name globs; default all"),
                FieldSchema("verbs", .list(.enumeration(["use", "manage"]), minItems: 1), required: true, "use and/or manage"),
            ]))), "what the group may do"),
        ])
        case .energyPolicy: return ObjectSchema([
            FieldSchema("site", .string(.dnsLabel), required: true, "the Site's name"),
            FieldSchema("rackPowerCapKW", .number(minimum: 0, exclusiveMinimum: true), "hard cap per rack on estimated draw"),
            FieldSchema("racks", .map(key: .any, value: .object(ObjectSchema([
                FieldSchema("powerCapKW", .number(minimum: 0, exclusiveMinimum: true), required: true, "this rack's cap"),
            ]))), "per-rack overrides by rack label value"),
            FieldSchema("powerOffIdle", .boolean, "power off healthy nodes that host nothing"),
            FieldSchema("keepWarm", .integer(), "idle healthy nodes left on for fast failover, per site"),
        ])
        }
    }

    /// The whole document of a kind.
    public static func document(of kind: Kind) -> ObjectSchema {
        ObjectSchema([
            FieldSchema("apiVersion", .enumeration([apiVersion]), required: true, "always \(apiVersion)"),
            FieldSchema("kind", .enumeration([kind.rawValue]), required: true, "the kind"),
            FieldSchema("metadata", .object(metadata), required: true, "name, labels, annotations"),
            FieldSchema("spec", .object(spec(of: kind)), required: true, "the \(kind.rawValue)'s specification"),
        ])
    }

    static let gpus = FieldType.object(ObjectSchema([
        FieldSchema("model", .string(), required: true, "GPU model, such as H100"),
        FieldSchema("count", .integer(), required: true, "GPUs on the node"),
        FieldSchema("memoryGiB", .number(), "memory per GPU"),
    ]))
    static let drives = FieldType.list(.object(ObjectSchema([
        FieldSchema("id", .string(), required: true, "unique on the node"),
        FieldSchema("media", .enumeration(Media.allCases.map(\.rawValue)), required: true, "nvme, ssd or hdd"),
        FieldSchema("capacityTiB", .number(), required: true, "raw capacity"),
        FieldSchema("selfEncrypting", .boolean, "the drive encrypts at rest"),
    ])))
    static let power = FieldType.object(ObjectSchema([
        FieldSchema("idleW", .number(), required: true, "draw when on and idle"),
        FieldSchema("maxW", .number(), required: true, "draw when on and fully used"),
    ]))

    static func nodeFields(name: FieldSchema) -> [FieldSchema] {
        [
            name,
            FieldSchema("labels", labels, "failure-domain and other labels"),
            FieldSchema("gpus", gpus, "absent on CPU-only nodes"),
            FieldSchema("capacity", resources, "cpuCores, memoryGiB and custom keys; gpus from gpus.count when absent"),
            FieldSchema("drives", drives, "drives on the node"),
            FieldSchema("power", power, "power rating, for the draw estimate"),
            FieldSchema("health", .enumeration(Health.allCases.map(\.rawValue)), "healthy (default), degraded or failed"),
            FieldSchema("powerState", .enumeration(PowerState.allCases.map(\.rawValue)), "on (default) or off, at first import"),
        ]
    }

    /// The local inventory file.
    public static let inventory = ObjectSchema([
        FieldSchema("apiVersion", .enumeration([apiVersion]), required: true, "always \(apiVersion)"),
        FieldSchema("kind", .enumeration(["Inventory"]), required: true, "Inventory"),
        FieldSchema("metadata", .object(metadata), "optional"),
        FieldSchema("nodes", .list(.object(ObjectSchema(nodeFields(name: FieldSchema("name", .string(.dnsLabel), required: true, "unique, a DNS label"))))), "nodes written one by one"),
        FieldSchema("templates", .list(.object(ObjectSchema(nodeFields(name: FieldSchema("namePattern", .string(), required: true, "such as cpu-r{rack:02}-n{index:02}")) + [
            FieldSchema("racks", .list(.integerOrString, minItems: 1), "values of {rack}"),
            FieldSchema("perRack", .integer(minimum: 1), required: true, "nodes per rack; {index} counts from 1"),
        ]))), "many alike nodes written once"),
    ])
}
