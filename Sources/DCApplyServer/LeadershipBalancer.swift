import Synchronization

/// One controller's book of the sites it serves and leads, shared by the sites' loops (which
/// run at once), so that the share ``LeadershipBalance`` allows is never overshot by two loops
/// contending at the same moment: a contention reserves its slot before it asks the lock.
public final class LeadershipBalancer: Sendable {
    public let membership: any ControllerMembership

    private struct Book {
        var sites: [String] = []
        var leading: Set<String> = []
        var waited: [String: Int] = [:]
    }

    private let book = Mutex(Book())

    /// A balancer asking `membership` who is alive.
    public init(membership: any ControllerMembership) {
        self.membership = membership
    }

    /// The sites served now (the fleet sets them on every resolution); a site no longer served
    /// is forgotten.
    public func serve(_ sites: [String]) {
        book.withLock { book in
            book.sites = sites.sorted()
            book.leading.formIntersection(sites)
            book.waited = book.waited.filter { sites.contains($0.key) }
        }
    }

    /// The sites this controller leads, sorted.
    public var leading: [String] { book.withLock { $0.leading.sorted() } }

    /// Decides for `site`; a ``LeadershipBalance/Choice/contend`` reserves the slot until
    /// ``settle(_:leading:)``.
    func choose(_ site: String, me: String, members: [String]) -> LeadershipBalance.Choice {
        book.withLock { book in
            let sites = book.sites.contains(site) ? book.sites : book.sites + [site]
            let choice = LeadershipBalance.decide(site: site, sites: sites, leading: book.leading, members: members, me: me,
                                                  waited: book.waited[site] ?? 0)
            switch choice {
            case .contend: book.leading.insert(site)
            case .wait where book.leading.count < LeadershipBalance.share(sites: sites.count, members: Set(members + [me]).count):
                book.waited[site, default: 0] += 1
            case .wait, .keep, .release: break
            }
            return choice
        }
    }

    /// Records whether this controller leads `site` after a pass's decision.
    func settle(_ site: String, leading: Bool) {
        book.withLock { book in
            book.waited[site] = 0
            if leading { book.leading.insert(site) } else { book.leading.remove(site) }
        }
    }
}
