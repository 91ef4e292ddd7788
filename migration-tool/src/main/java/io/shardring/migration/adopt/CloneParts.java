package io.shardring.migration.adopt;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one reading of a source collects besides the statements that {@link CloneGraph} orders: the owners and grants
 * that follow them, what a target must have or lack before they apply there, the targets of comments, and the
 * problems that make the clone refused.
 */
final class CloneParts {

    /** The tool's own schema: never cloned; the tool installs it on each node before a clone applies there. */
    static final String TOOL_SCHEMA = "shardring";

    /** ALTER ... OWNER TO role, rendered only when role is not the connecting role. */
    record Owner(String alter, String role) {
    }

    /** A name the clone takes on the target, for the check that the target does not have it yet. */
    record Named(String kind, String schema, String name) {
    }

    record Extension(String name, String schema, String version) {
    }

    /** A function or type of the shardring schema the clone uses (a default calling shardring.uuid_v7()). */
    record Requirement(boolean function, String identity, String usedBy) {
    }

    /** A catalog row or one of its columns, as pg_description names what a comment is on. */
    private record Described(String catalog, long oid, int subId) {
    }

    final List<Owner> owners = new ArrayList<>();
    /** GRANT, REVOKE and ALTER DEFAULT PRIVILEGES, run after the owners changed. */
    final List<String> grants = new ArrayList<>();
    /** The cloned tables, schema-qualified as schema.table (unquoted). */
    final List<String> tables = new ArrayList<>();
    final List<Named> created = new ArrayList<>();
    /** Every role the clone names, as owner or grantee: the target's server must have them. */
    final Set<String> roles = new TreeSet<>();
    final List<Extension> extensions = new ArrayList<>();
    final Map<String, Requirement> requirements = new LinkedHashMap<>();
    /** What the clone cannot reproduce faithfully, each naming the object and why. */
    final Set<String> problems = new LinkedHashSet<>();
    private final Map<Described, String> commentTargets = new HashMap<>();

    /** The object gets {@code alter} OWNER TO role; role must exist on the target. */
    void owner(String alter, String role) {
        owners.add(new Owner(alter, role));
        roles.add(role);
    }

    /** A comment on the row (on its column subId, if not 0) is replayed as {@code commentOn} IS '...'. */
    void commentTarget(String catalog, long oid, int subId, String commentOn) {
        commentTargets.put(new Described(catalog, oid, subId), commentOn);
    }

    /** COMMENT ON ... of a comment on the row, or null if the row is not cloned. */
    String commentOn(String catalog, long oid, int subId) {
        return commentTargets.get(new Described(catalog, oid, subId));
    }
}
