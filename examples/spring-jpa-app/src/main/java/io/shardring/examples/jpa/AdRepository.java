package io.shardring.examples.jpa;

import java.util.List;
import org.springframework.data.jpa.repository.JpaRepository;

public interface AdRepository extends JpaRepository<Ad, AdId> {
    List<Ad> findByCompanyIdOrderById(long companyId);
}
