package io.shardring.examples.tenant;

import java.time.OffsetDateTime;
import java.util.UUID;

/** A row of {@code customers}: immutable, so it can be handed across threads and compared by value. */
public record Customer(long tenantId, UUID id, String name, String email, OffsetDateTime createdAt) {
}
