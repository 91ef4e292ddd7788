package io.shardring.examples.jpa;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * An advertising service (companies, their campaigns and ads) on Spring Data JPA and
 * shardring-spring-boot-starter, with no routing code: {@link CampaignService} marks the company with
 * {@code @ShardKey} and is {@code @Transactional}; the starter runs each call on the company's shard, with
 * Hibernate's connection, and waits out a rebalance's cutover inside it.
 */
@SpringBootApplication
public class JpaAppApplication {
    public static void main(String[] args) {
        SpringApplication.run(JpaAppApplication.class, args);
    }
}
