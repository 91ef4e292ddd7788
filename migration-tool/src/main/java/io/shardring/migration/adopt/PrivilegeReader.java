package io.shardring.migration.adopt;

import static io.shardring.router.Sql.quote;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The privileges of the cloned objects and the default privileges of the source, as GRANT, REVOKE and ALTER DEFAULT
 * PRIVILEGES statements. Only grants the owner made can be replayed as they were: the clone runs as the owner or a
 * superuser, whose grants PostgreSQL records as the owner's; any other is a problem.
 */
final class PrivilegeReader {

    /** A privilege keyword as aclexplode spells it; checked because it is put into a GRANT unquoted. */
    private static final Pattern PRIVILEGE = Pattern.compile("[A-Z]+( [A-Z]+)*");

    /** One aclexplode row; null grantor or grantee is PUBLIC. */
    private record AclEntry(String grantor, String grantee, String privilege, boolean grantable) {
    }

    private final CatalogQuery source;
    private final CloneParts parts;

    PrivilegeReader(CatalogQuery source, CloneParts parts) {
        this.source = source;
        this.parts = parts;
    }

    /**
     * Makes the object's privileges exactly {@code aclText}: revoke what a new object has (PUBLIC's defaults and
     * the owner's), then grant each entry.
     */
    void acl(String object, String label, String owner, String aclText) throws SQLException {
        List<AclEntry> entries = explode(aclText, label, owner);
        parts.grants.add("REVOKE ALL ON " + object + " FROM PUBLIC");
        parts.grants.add("REVOKE ALL ON " + object + " FROM " + quote(owner));
        parts.grants.addAll(grantStatements(entries, privilege -> privilege, " ON " + object));
    }

    void columnAcl(Relation rel, Column col) throws SQLException {
        String label = "column " + col.name() + " of " + rel.label();
        List<AclEntry> entries = explode(col.acl(), label, rel.owner());
        parts.grants.addAll(grantStatements(entries, privilege -> privilege + " (" + quote(col.name()) + ")",
                " ON TABLE " + rel.qualified()));
    }

    /**
     * ALTER DEFAULT PRIVILEGES of the database (global) and of the cloned schemas: the tables the application's
     * migrations create later on the new node must get the grants they get on the others. Run last, so that they
     * do not touch the cloned objects.
     */
    void defaultPrivileges(List<String> schemas) throws SQLException {
        source.each("""
                SELECT pg_get_userbyid(d.defaclrole)::text, n.nspname, d.defaclobjtype::text, d.defaclacl::text
                FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
                WHERE d.defaclnamespace = 0 OR n.nspname = ANY(?) ORDER BY 1, 2, 3""", r -> {
            String kind = switch (r.getString(3)) {
                case "r" -> "TABLES";
                case "S" -> "SEQUENCES";
                case "f" -> "ROUTINES";
                case "T" -> "TYPES";
                case "n" -> "SCHEMAS";
                default -> null;
            };
            String schema = r.getString(2);
            String label = "default privileges of role " + r.getString(1) + (schema == null ? "" : " in schema "
                    + schema);
            if (kind == null) {
                parts.problems.add(label + " on objects of kind '" + r.getString(3) + "' are not supported");
                return;
            }
            String owner = r.getString(1);
            parts.roles.add(owner);
            String prefix = "ALTER DEFAULT PRIVILEGES FOR ROLE " + quote(owner)
                    + (schema == null ? "" : " IN SCHEMA " + quote(schema));
            if (schema == null) { // a global entry replaces the built-in defaults rather than adding to them
                parts.grants.add(prefix + " REVOKE ALL ON " + kind + " FROM PUBLIC");
                parts.grants.add(prefix + " REVOKE ALL ON " + kind + " FROM " + quote(owner));
            }
            for (String grant : grantStatements(explode(r.getString(4), label, null), p -> p, " ON " + kind)) {
                parts.grants.add(prefix + " " + grant);
            }
        }, schemas);
    }

    /** One GRANT per grantee and grant option, privileges in aclexplode's order. */
    private static List<String> grantStatements(List<AclEntry> entries, UnaryOperator<String> form, String on) {
        Map<String, List<String>> byGrantee = new LinkedHashMap<>();
        for (AclEntry e : entries) {
            String grantee = e.grantee() == null ? "PUBLIC" : quote(e.grantee());
            String key = grantee + (e.grantable() ? " WITH GRANT OPTION" : "");
            byGrantee.computeIfAbsent(key, k -> new ArrayList<>()).add(form.apply(e.privilege()));
        }
        List<String> out = new ArrayList<>();
        byGrantee.forEach((to, privileges) -> out.add("GRANT " + String.join(", ", privileges) + on + " TO " + to));
        return out;
    }

    /** The entries of an ACL; a grant made by another role than {@code owner} (if not null) is a problem. */
    private List<AclEntry> explode(String aclText, String label, String owner) throws SQLException {
        List<AclEntry> entries = new ArrayList<>();
        source.each("""
                SELECT CASE WHEN a.grantor = 0 THEN NULL ELSE pg_get_userbyid(a.grantor)::text END,
                       CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee)::text END,
                       a.privilege_type, a.is_grantable
                FROM aclexplode(?::aclitem[]) a""", r -> {
            AclEntry e = new AclEntry(r.getString(1), r.getString(2), r.getString(3), r.getBoolean(4));
            if (!PRIVILEGE.matcher(e.privilege()).matches()) {
                throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone the privileges on "
                        + label + ": unexpected privilege '" + e.privilege() + "'");
            }
            if (owner != null && !owner.equals(e.grantor())) {
                parts.problems.add("the grant of " + e.privilege() + " on " + label + " to "
                        + (e.grantee() == null ? "PUBLIC" : e.grantee()) + " was made by " + e.grantor()
                        + ", not by the owner " + owner + ", and cannot be replayed as it is (revoke it and"
                        + " let the owner grant it)");
            }
            if (e.grantee() != null) {
                parts.roles.add(e.grantee());
            }
            entries.add(e);
        }, aclText);
        return entries;
    }
}
