/// Which sites a controller should try to lead, keep or hand over, so that with N live
/// controllers and S sites none leads more than ceil(S/N). Pure: the caller knows the sites,
/// the live members and what it leads.
///
/// Each site ranks the members by a deterministic score (rendezvous hashing of member and site,
/// FNV-1a: the same on every controller and every run). A controller with room contends for a
/// site it does not lead only after waiting as many of its passes as its rank, so two
/// controllers do not both grab the same free site every pass (the site's lock decides anyway).
/// A controller over its share releases the sites it ranks lowest, between applies.
public enum LeadershipBalance {
    /// What to do with one site at the start of a pass.
    public enum Choice: Sendable, Equatable {
        /// Lead it still.
        case keep
        /// Give it up: this controller leads more than its share.
        case release
        /// Try to take it (it may be led by another: the lock says no then).
        case contend
        /// Leave it to others this pass.
        case wait
    }

    /// The most sites one controller leads: ceil(sites / members), members counted at least once.
    public static func share(sites: Int, members: Int) -> Int {
        let count = max(1, members)
        return (max(0, sites) + count - 1) / count
    }

    /// A score of `member` for `site`; higher is preferred (FNV-1a 64 over `member NUL site`).
    public static func score(member: String, site: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Array(member.utf8) + [0] + Array(site.utf8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Where `member` stands for `site` among `members`: 0 is the most preferred.
    public static func rank(of member: String, for site: String, among members: [String]) -> Int {
        let ordered = Set(members + [member]).sorted { left, right in
            let (a, b) = (score(member: left, site: site), score(member: right, site: site))
            return a != b ? a > b : left < right
        }
        return ordered.firstIndex(of: member) ?? 0
    }

    /// What `me` does with `site` this pass.
    /// - Parameters:
    ///   - sites: every site served (`site` among them).
    ///   - leading: the sites `me` leads now.
    ///   - members: the live controllers (`me` counted even if missing).
    ///   - waited: `me`'s passes in a row with room that left `site` to others.
    public static func decide(site: String, sites: [String], leading: Set<String>, members: [String], me: String, waited: Int) -> Choice {
        let live = Set(members + [me])
        let mine = leading.intersection(sites)
        let quota = share(sites: Set(sites).count, members: live.count)
        if mine.contains(site) {
            let excess = mine.count - quota
            guard excess > 0 else { return .keep }
            let leastPreferred = mine.sorted { left, right in
                let (a, b) = (score(member: me, site: left), score(member: me, site: right))
                return a != b ? a < b : left > right
            }
            return leastPreferred.prefix(excess).contains(site) ? .release : .keep
        }
        guard mine.count < quota else { return .wait }
        return waited >= rank(of: me, for: site, among: Array(live)) ? .contend : .wait
    }
}
