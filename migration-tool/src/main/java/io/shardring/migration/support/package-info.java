/** Mechanisms the tool's phases share: work on several nodes at once. */
package io.shardring.migration.support;
