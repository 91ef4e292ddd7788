/** Examples of shardring in use: a tenant DAO, replica reads, an online rebalance. */
package io.shardring.examples;
