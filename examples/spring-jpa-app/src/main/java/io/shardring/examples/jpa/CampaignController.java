package io.shardring.examples.jpa;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import io.shardring.router.jdbc.ShardedDataSource;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.hibernate.exception.ConstraintViolationException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * The REST API: {@code /companies}, {@code /companies/{companyId}/campaigns},
 * {@code /companies/{companyId}/campaigns/{campaignId}/ads}.
 */
@RestController
public class CampaignController {
    /** The body of POST /companies: the caller gives the id. */
    public record NewCompanyBody(Long id, String name) {
    }

    /** The body of POST .../campaigns: the campaign and the text of its first ad. */
    public record NewCampaignBody(String name, String firstAd) {
    }

    /** The body of POST .../ads. */
    public record NewAdBody(String text) {
    }

    /** A request the client must change: 400 with the message. */
    static class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message);
        }
    }

    private final CampaignService service;
    private final ShardedDataSource router;

    public CampaignController(CampaignService service, ShardedDataSource router) {
        this.service = service;
        this.router = router;
    }

    /** A new company: its id given, or drawn from the catalog's key sequence (the id decides its shard). */
    @PostMapping("/companies")
    public ResponseEntity<Map<String, Object>> createCompany(@RequestBody NewCompanyBody body) {
        String name = required("name", body.name());
        long id = body.id() != null ? body.id() : router.newKey();
        service.createCompany(id, name);
        return ResponseEntity.created(URI.create("/companies/" + id)).body(Map.of("id", id, "name", name));
    }

    @PostMapping("/companies/{companyId}/campaigns")
    public ResponseEntity<CampaignService.NewCampaign> createCampaign(@PathVariable long companyId,
            @RequestBody NewCampaignBody body) {
        String ad = required("firstAd", body.firstAd());
        CampaignService.NewCampaign created = withAdText(ad,
                () -> service.createCampaign(companyId, required("name", body.name()), ad));
        return ResponseEntity.created(URI.create("/companies/" + companyId + "/campaigns/" + created.campaignId()))
                .body(created);
    }

    @PostMapping("/companies/{companyId}/campaigns/{campaignId}/ads")
    public ResponseEntity<CampaignService.AdView> createAd(@PathVariable long companyId, @PathVariable long campaignId,
            @RequestBody NewAdBody body) {
        String text = required("text", body.text());
        CampaignService.AdView ad = withAdText(text, () -> service.createAd(companyId, campaignId, text));
        return ResponseEntity.created(URI.create("/companies/" + companyId + "/campaigns/" + campaignId + "/ads/"
                + ad.id())).body(ad);
    }

    @GetMapping("/companies/{companyId}/campaigns")
    public List<CampaignService.CampaignView> campaigns(@PathVariable long companyId) {
        return service.campaigns(companyId);
    }

    private static String required(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new BadRequest("\"" + field + "\" is missing or blank");
        }
        return value;
    }

    /** The database's rule for an ad's text ({@code ads_text_length}), said to the client with the text's length. */
    private static <T> T withAdText(String text, java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (DataIntegrityViolationException e) {
            if (e.getCause() instanceof ConstraintViolationException c
                    && "ads_text_length".equals(c.getConstraintName())) {
                throw new BadRequest("an ad's text takes 1 to 90 characters; this one has " + text.length() + ": '"
                        + (text.length() > 40 ? text.substring(0, 40) + "...'" : text + "'"));
            }
            throw e;
        }
    }

    @ExceptionHandler(BadRequest.class)
    public ResponseEntity<Map<String, String>> badRequest(BadRequest e) {
        return ResponseEntity.badRequest().body(Map.of("message", e.getMessage()));
    }

    @ExceptionHandler(CampaignService.NotFound.class)
    public ResponseEntity<Map<String, String>> notFound(CampaignService.NotFound e) {
        return ResponseEntity.status(HttpStatus.NOT_FOUND).body(Map.of("message", e.getMessage()));
    }

    @ExceptionHandler(CampaignService.Conflict.class)
    public ResponseEntity<Map<String, String>> conflict(CampaignService.Conflict e) {
        return ResponseEntity.status(HttpStatus.CONFLICT).body(Map.of("message", e.getMessage()));
    }

    /** A request with no company bound is the client's mistake; a shard that cannot be reached is not. */
    @ExceptionHandler(ShardringException.class)
    public ResponseEntity<Map<String, String>> shardring(ShardringException e) {
        HttpStatus status = e.code() == ErrorCode.NO_KEY_BOUND || e.code() == ErrorCode.INVALID_KEY
                ? HttpStatus.BAD_REQUEST : HttpStatus.SERVICE_UNAVAILABLE;
        return ResponseEntity.status(status).body(Map.of("code", e.code().name(), "message", e.getMessage()));
    }
}
