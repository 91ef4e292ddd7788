package io.shardring.spring.jpa;

import java.util.List;
import org.springframework.data.jpa.repository.JpaRepository;

public interface NoteRepository extends JpaRepository<Note, Note.Key> {
    List<Note> findByTenantIdOrderById(long tenantId);
}
