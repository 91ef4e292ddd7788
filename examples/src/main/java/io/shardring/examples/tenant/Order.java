package io.shardring.examples.tenant;

import java.time.OffsetDateTime;
import java.util.UUID;

/** A row of {@code orders}; amounts are whole cents in a {@code bigint}, so sums are exact. */
public record Order(long tenantId, UUID id, UUID customerId, long amountCents, String status,
        OffsetDateTime createdAt) {
}
