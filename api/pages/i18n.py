"""Which language a page speaks, and its interface texts in Vietnamese and English.

The shopper scanning a package is the audience: a Vietnamese browser gets Vietnamese
first, everyone else English, and ``?lang=`` overrides both (the page links to the
other language). Texts are kept here, not in templates, so both languages stay side by
side and a missing translation is a test failure rather than a blank on a phone.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")
DEFAULT_LANG: Lang = "en"


def _accept_language(header: str) -> list[tuple[str, float, int]]:
    """``(primary subtag, q, position)`` for each range of an Accept-Language header."""
    out = []
    for position, element in enumerate(header.split(",")):
        parts = [p.strip() for p in element.split(";")]
        tag = parts[0].lower()
        if not tag:
            continue
        q = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        out.append((tag.split("-")[0], q, position))
    return out


def choose_language(override: str | None, accept_language: str | None) -> Lang:
    """``?lang=`` if it names a language we speak; else the browser's preference
    between Vietnamese and English (higher q, then earlier); else English."""
    if override:
        code = override.strip().lower()[:2]
        if code in LANGS:
            return code  # type: ignore[return-value]
    if not accept_language:
        return DEFAULT_LANG
    ranked = sorted(
        (
            (q, -position, tag)
            for tag, q, position in _accept_language(accept_language)
            if q > 0 and tag in LANGS
        ),
        reverse=True,
    )
    return ranked[0][2] if ranked else DEFAULT_LANG  # type: ignore[return-value]


# Interface texts. ``{name}`` placeholders are filled by :meth:`Texts.__call__`; the
# values are escaped by the template engine afterwards, never here.
TEXTS: dict[str, dict[Lang, str]] = {
    "lang.name": {"vi": "Tiếng Việt", "en": "English"},
    "lang.switch": {"vi": "Ngôn ngữ", "en": "Language"},
    "site.tagline": {
        "vi": "Truy xuất nguồn gốc trên blockchain",
        "en": "Blockchain traceability",
    },
    "page.title": {"vi": "Lô {lot} · {product}", "en": "Lot {lot} · {product}"},
    "lot.heading": {"vi": "Lô {lot}", "en": "Lot {lot}"},
    "lot.gtin": {"vi": "Mã GTIN", "en": "GTIN"},
    "lot.producer": {"vi": "Nhà sản xuất", "en": "Producer"},
    "lot.events": {"vi": "{count} sự kiện", "en": "{count} events"},
    "lot.events.one": {"vi": "1 sự kiện", "en": "1 event"},
    # verdicts
    "verdict.heading": {"vi": "Kết quả xác minh", "en": "Verification"},
    "verdict.verified.title": {
        "vi": "Đã xác minh và neo trên blockchain",
        "en": "Verified and anchored on the blockchain",
    },
    "verdict.verified.text": {
        "vi": "Cả {count} bản ghi đều nguyên vẹn, được nhà sản xuất đã đăng ký ký số "
        "và được neo trên blockchain.",
        "en": "All {count} records are unchanged, signed by the registered producer "
        "and anchored on the blockchain.",
    },
    "verdict.verified.text.custodial": {
        "vi": "Cả {count} bản ghi đều nguyên vẹn, được nhà sản xuất đã đăng ký hoặc nút "
        "ký thay nhà sản xuất ký số, và được neo trên blockchain.",
        "en": "All {count} records are unchanged, signed by the registered producer or by "
        "the node for the producer, and anchored on the blockchain.",
    },
    "verdict.anchor": {
        "vi": "Neo lần cuối ở khối {block}, lúc {time}.",
        "en": "Last anchored in block {block} on {time}.",
    },
    "verdict.pending.title": {
        "vi": "Đang chờ neo lên blockchain",
        "en": "Waiting for anchoring",
    },
    "verdict.pending.text": {
        "vi": "{pending} trên {count} bản ghi đã được nút tiếp nhận nhưng chưa "
        "được neo lên blockchain. Việc neo diễn ra định kỳ; hãy kiểm tra lại sau ít phút.",
        "en": "{pending} of {count} records were received by the node but are not anchored "
        "on the blockchain yet. Anchoring runs periodically: check again in a few minutes.",
    },
    "verdict.recalled.title": {
        "vi": "LÔ HÀNG ĐÃ BỊ THU HỒI",
        "en": "THIS LOT HAS BEEN RECALLED",
    },
    "verdict.recalled.text": {
        "vi": "Không sử dụng sản phẩm thuộc lô này. Lô được thu hồi lúc {time}.",
        "en": "Do not use products from this lot. It was recalled at {time}.",
    },
    "verdict.recalled.reason": {"vi": "Lý do", "en": "Reason"},
    "verdict.recalled.also": {
        "vi": "Lô hàng này cũng đã bị thu hồi",
        "en": "This lot has also been recalled",
    },
    "verdict.failed.title": {"vi": "Xác minh thất bại", "en": "Verification failed"},
    "verdict.failed.text": {
        "vi": "{failed} trên {count} bản ghi không vượt qua kiểm tra. Dữ liệu hiển thị dưới "
        "đây có thể đã bị thay đổi: đừng tin vào nó.",
        "en": "{failed} of {count} records failed their checks. What this page shows may "
        "have been altered: do not rely on it.",
    },
    "verdict.unavailable.title": {
        "vi": "Hiện không thể xác minh",
        "en": "Cannot verify right now",
    },
    "verdict.unavailable.text": {
        "vi": "Nút không đọc được blockchain lúc này. Hãy thử lại sau ít phút.",
        "en": "The node could not read the blockchain just now. Try again in a few minutes.",
    },
    "verdict.empty.text": {
        "vi": "Lô này chưa có bản ghi nào.",
        "en": "This lot has no records yet.",
    },
    "verdict.node_view": {
        "vi": "Đây là kết quả kiểm tra của chính nút này đối với các bản ghi nó lưu giữ. "
        "Để tự kiểm tra độc lập với blockchain, hãy cài bộ công cụ vntrace và chạy:",
        "en": "This is this node's own check of the records it keeps. To check it "
        "yourself, independently, against the blockchain, install the vntrace tools and run:",
    },
    "verdict.node_view.rpc": {
        "vi": "Lệnh này kiểm tra lại từng bản ghi với hợp đồng đăng ký {registry} trên chuỗi "
        "{chain}. Để không phụ thuộc vào nút này: thêm --rpc với một nút blockchain bạn tin "
        "cậy, hoặc (trên chuỗi riêng của nút) yêu cầu chữ ký của các bên chứng kiến độc lập "
        "bằng --log-key và --witness.",
        "en": "It re-checks every record against the registry contract {registry} on chain "
        "{chain}. To rely on this node for nothing, add --rpc with a blockchain node you "
        "trust or, on the node's own chain, require independent witnesses' cosignatures "
        "with --log-key and --witness.",
    },
    "verdict.witnessed": {
        "vi": "Nhật ký của nút được {count} bên chứng kiến độc lập ký xác nhận: {names}. "
        "Lệnh trên kiểm tra cả chữ ký của họ.",
        "en": "This node's log is cosigned by {count} independent witness(es): {names}. "
        "The command above checks their signatures too.",
    },
    "verdict.unwitnessed": {
        "vi": "Chưa có bên chứng kiến nào trong {count} bên ký xác nhận các lần neo của lô này.",
        "en": "None of the {count} witness(es) has cosigned this lot's anchorings yet.",
    },
    "copy": {"vi": "Sao chép", "en": "Copy"},
    "copied": {"vi": "Đã sao chép", "en": "Copied"},
    # record statuses (timeline badges)
    "record.verified": {"vi": "Đã xác minh · khối {block}", "en": "Verified · block {block}"},
    "record.pending": {"vi": "Chờ neo", "en": "Waiting for anchoring"},
    "record.recalled": {"vi": "Nguyên vẹn · lô bị thu hồi", "en": "Intact · lot recalled"},
    "record.failed": {"vi": "Không hợp lệ", "en": "Failed"},
    "record.unavailable": {"vi": "Chưa kiểm tra được", "en": "Not checked"},
    # timeline
    "timeline.heading": {"vi": "Hành trình của lô hàng", "en": "Journey of this lot"},
    "timeline.who": {"vi": "Ai", "en": "Who"},
    "timeline.where": {"vi": "Ở đâu", "en": "Where"},
    "timeline.what": {"vi": "Chi tiết", "en": "What"},
    "timeline.signed_by": {"vi": "Ký bởi", "en": "Signed by"},
    # who signed a record (docs/epcis.md §6): the producer's key, or the node's for it
    "signer.producer": {
        "vi": "Nhà sản xuất, bằng khóa riêng",
        "en": "The producer, with its own key",
    },
    "signer.custodial": {
        "vi": "Nút ký thay nhà sản xuất",
        "en": "Signed by the node for the producer",
    },
    "signer.custodial.detail": {
        "vi": "Nút ký thay nhà sản xuất (khóa {custodian} nút giữ cho nhà sản xuất)",
        "en": "Signed by the node for the producer (key {custodian}, held by the node)",
    },
    "verdict.custodial": {
        "vi": "{custodial} trên {count} bản ghi do nút ký thay nhà sản xuất (hệ thống của "
        "nhà sản xuất gửi dữ liệu EPCIS không có chữ ký), không phải bằng khóa riêng "
        "của nhà sản xuất.",
        "en": "{custodial} of {count} records were signed by the node for the producer "
        "(the producer's system sent plain EPCIS data), not with the producer's own key.",
    },
    "timeline.plot_link": {"vi": "xem bản đồ vùng trồng", "en": "see the plot map"},
    "timeline.recall": {"vi": "Thu hồi (do nút ghi nhận)", "en": "Recall (recorded by the node)"},
    "stages.heading": {"vi": "Các công đoạn", "en": "Stages of the journey"},
    "stage.count": {"vi": "{count} sự kiện", "en": "{count} events"},
    "stage.count.one": {"vi": "1 sự kiện", "en": "1 event"},
    "stage.failed": {"vi": "{count} không hợp lệ", "en": "{count} failed"},
    "stage.showing": {
        "vi": "Sự kiện {first} đến {last} trên {count}",
        "en": "Events {first} to {last} of {count}",
    },
    "paging.label": {"vi": "Trang sự kiện: {stage}", "en": "Event pages: {stage}"},
    "paging.prev": {"vi": "← Trang trước", "en": "← Previous"},
    "paging.next": {"vi": "Trang sau →", "en": "Next →"},
    "paging.page": {"vi": "Trang {page}/{pages}", "en": "Page {page} of {pages}"},
    "paging.all": {"vi": "Xem tất cả {count} sự kiện", "en": "Show all {count} events"},
    "tech.bundle": {"vi": "Gói bằng chứng (JSON)", "en": "Proof bundle (JSON)"},
    "tech.leaves.many": {
        "vi": "{count} lá: xem trong JSON của lô (?format=json)",
        "en": "{count} leaves: see the lot's JSON (?format=json)",
    },
    "paging.less": {"vi": "Xem theo trang", "en": "Show page by page"},
    "plots.many": {
        "vi": "{count} vùng trồng; đơn giản hóa để hiển thị. Tọa độ đã ký ở từng sự kiện.",
        "en": "{count} plots, simplified for display; each event holds its signed coordinates.",
    },
    "confidential": {"vi": "bảo mật (đã cam kết)", "en": "confidential (committed)"},
    "yes": {"vi": "có", "en": "yes"},
    "no": {"vi": "không", "en": "no"},
    # plots
    "plots.heading": {"vi": "Vùng trồng", "en": "Where it was grown"},
    "eudr.heading": {
        "vi": "Quy định chống phá rừng của EU (EUDR)",
        "en": "EU deforestation rules (EUDR)",
    },
    "eudr.plots": {"vi": "Số vùng trồng", "en": "Plots"},
    "eudr.area": {"vi": "Tổng diện tích", "en": "Total area"},
    "eudr.countries": {"vi": "Quốc gia sản xuất", "en": "Countries of production"},
    "eudr.dds": {"vi": "Tờ khai thẩm định (DDS)", "en": "Due diligence statement (DDS)"},
    "eudr.dds.value": {
        "vi": "số tham chiếu {reference}, số xác minh {verification}",
        "en": "reference {reference}, verification {verification}",
    },
    "eudr.dds.none": {"vi": "chưa ghi nhận", "en": "none recorded yet"},
    "plots.caption": {
        "vi": "Vị trí vùng trồng theo tọa độ GeoJSON (WGS 84) mà nhà sản xuất đã ký.",
        "en": "Harvest plots from the GeoJSON coordinates (WGS 84) the producer signed.",
    },
    "plots.svg_title": {"vi": "Bản đồ vùng trồng", "en": "Map of the harvest plots"},
    "plots.point": {"vi": "điểm", "en": "point"},
    "plots.polygon": {"vi": "vùng {count} đỉnh", "en": "area with {count} corners"},
    "plots.area": {"vi": "{area} ha", "en": "{area} ha"},
    "plots.north": {"vi": "B", "en": "N"},
    # technical details
    "tech.heading": {"vi": "Chi tiết kỹ thuật", "en": "Technical details"},
    "tech.record": {"vi": "Bằng chứng của bản ghi", "en": "Proof of this record"},
    "tech.record_id": {"vi": "Mã bản ghi (lá Merkle)", "en": "Record id (Merkle leaf)"},
    "tech.digest": {"vi": "Mã băm (digest)", "en": "Digest"},
    "tech.salt": {"vi": "Muối (salt)", "en": "Salt"},
    "tech.signature": {"vi": "Chữ ký EIP-712", "en": "EIP-712 signature"},
    "tech.received": {"vi": "Nút nhận lúc", "en": "Received by the node"},
    "tech.epoch": {"vi": "Kỳ neo (epoch)", "en": "Epoch"},
    "tech.leaf_index": {"vi": "Vị trí lá", "en": "Leaf index"},
    "tech.root": {"vi": "Gốc Merkle", "en": "Merkle root"},
    "tech.tx": {"vi": "Giao dịch", "en": "Transaction"},
    "tech.block": {"vi": "Khối", "en": "Block"},
    "tech.block_time": {"vi": "Thời gian khối", "en": "Block time"},
    "tech.reasons": {"vi": "Lý do", "en": "Reasons"},
    "tech.event_id": {"vi": "Mã sự kiện", "en": "Event id"},
    "tech.commitments": {"vi": "Cam kết", "en": "Commitments"},
    "tech.lot_key": {"vi": "Khóa lô", "en": "Lot key"},
    "tech.chain": {"vi": "Chuỗi (chain id)", "en": "Chain id"},
    "tech.registry": {"vi": "Hợp đồng đăng ký", "en": "Registry contract"},
    "tech.digital_link": {"vi": "GS1 Digital Link", "en": "GS1 Digital Link"},
    "tech.producer_address": {"vi": "Địa chỉ nhà sản xuất", "en": "Producer address"},
    "tech.multiproof": {"vi": "Đa bằng chứng của kỳ {epoch}", "en": "Multiproof of epoch {epoch}"},
    "tech.leaves": {"vi": "Các lá", "en": "Leaves"},
    "tech.proof": {"vi": "Bằng chứng", "en": "Proof"},
    "tech.flags": {"vi": "Cờ", "en": "Flags"},
    "tech.none": {"vi": "chưa có", "en": "not yet"},
    # footer and links
    "links.json": {"vi": "Dữ liệu nguồn gốc (JSON)", "en": "Provenance as JSON"},
    "links.label": {"vi": "Nhãn in kèm mã QR", "en": "Printable label with QR code"},
    "links.qr_svg": {"vi": "Mã QR (SVG)", "en": "QR code (SVG)"},
    "links.qr_png": {"vi": "Mã QR (PNG)", "en": "QR code (PNG)"},
    "footer": {
        "vi": "Trang do nút vntrace phục vụ; không dùng tài nguyên bên ngoài.",
        "en": "Served by a vntrace node; nothing is loaded from elsewhere.",
    },
    # label page
    "label.title": {"vi": "Nhãn lô {lot}", "en": "Label for lot {lot}"},
    "label.lot": {"vi": "Lô / Lot", "en": "Lot / Lô"},
    "label.scan": {
        "vi": "Quét để xác minh nguồn gốc",
        "en": "Scan to verify origin",
    },
    "label.print_hint": {
        "vi": "In trang này (Ctrl+P): chỉ các nhãn được in. Chọn số nhãn:",
        "en": "Print this page (Ctrl+P): only the labels are printed. Labels per page:",
    },
    "label.copies": {"vi": "Số nhãn", "en": "Labels"},
    "label.show": {"vi": "Hiển thị", "en": "Show"},
    "label.back": {"vi": "Về trang lô hàng", "en": "Back to the lot page"},
    # error page
    "error.title": {"vi": "Không tìm thấy lô hàng", "en": "Lot not found"},
    "error.not_found": {
        "vi": "Nút này không biết lô hàng nào có mã này. Hãy kiểm tra lại mã QR.",
        "en": "This node knows no lot with this code. Check the QR code again.",
    },
    "error.invalid": {
        "vi": "Địa chỉ này không phải là GS1 Digital Link hợp lệ của một lô hàng.",
        "en": "This address is not a valid GS1 Digital Link of a lot.",
    },
}

# What each verification reason means for a shopper (docs/anchoring.md has the codes),
# in the order a page lists them: the root cause first (a changed event also breaks its
# signature, leaf and proof, which follow from it).
REASONS: dict[str, dict[Lang, str]] = {
    "digest_mismatch": {
        "vi": "Nội dung bản ghi đã bị thay đổi sau khi ký.",
        "en": "The record's content was changed after it was signed.",
    },
    "malformed": {
        "vi": "Bản ghi bị hỏng hoặc thiếu trường.",
        "en": "The record is damaged or incomplete.",
    },
    "bad_signature": {
        "vi": "Chữ ký không khớp với nhà sản xuất.",
        "en": "The signature does not match the producer.",
    },
    "lot_mismatch": {
        "vi": "Bản ghi không thuộc lô hàng này.",
        "en": "The record does not belong to this lot.",
    },
    "leaf_mismatch": {
        "vi": "Mã lá Merkle không khớp với bản ghi.",
        "en": "The Merkle leaf does not match the record.",
    },
    "proof_mismatch": {
        "vi": "Bằng chứng Merkle không dẫn tới gốc đã công bố.",
        "en": "The Merkle proof does not lead to the published root.",
    },
    "pending": {
        "vi": "Chưa được neo lên blockchain.",
        "en": "Not anchored on the blockchain yet.",
    },
    "root_not_anchored": {
        "vi": "Gốc Merkle không có trên blockchain.",
        "en": "The Merkle root is not on the blockchain.",
    },
    "root_revoked": {
        "vi": "Gốc Merkle đã bị cơ quan quản lý thu hồi.",
        "en": "The Merkle root was revoked by the regulator.",
    },
    "epoch_mismatch": {
        "vi": "Kỳ neo không khớp với blockchain.",
        "en": "The epoch does not match the blockchain.",
    },
    "lot_recalled": {"vi": "Lô hàng đã bị thu hồi.", "en": "The lot was recalled."},
    "producer_not_registered": {
        "vi": "Nhà sản xuất không (còn) được đăng ký.",
        "en": "The producer is not (or no longer) registered.",
    },
    "unknown_record": {
        "vi": "Nút không có bản ghi này.",
        "en": "The node has no such record.",
    },
    "chain_mismatch": {
        "vi": "Bản ghi thuộc một blockchain khác.",
        "en": "The record belongs to another blockchain.",
    },
    "anchor_mismatch": {
        "vi": "Thông tin neo không khớp với blockchain.",
        "en": "The anchor does not match the blockchain.",
    },
    "log_unwitnessed": {
        "vi": "Chưa đủ bên chứng kiến độc lập xác nhận nhật ký.",
        "en": "Not yet confirmed by enough independent witnesses.",
    },
    "log_mismatch": {
        "vi": "Nhật ký được chứng kiến không khớp với bằng chứng.",
        "en": "The witnessed log does not match the proof.",
    },
}


_ORDER = {code: i for i, code in enumerate(REASONS)}


class Texts:
    """The interface texts of one language: ``t("verdict.anchor", block=7, time=...)``."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def __call__(self, key: str, /, **values: object) -> str:
        text = TEXTS[key][self.lang]
        return text.format(**values) if values else text

    @staticmethod
    def reason_order(code: str) -> int:
        """Sort key putting root causes first (unknown codes last)."""
        return _ORDER.get(code, len(_ORDER))

    def reason(self, code: str) -> str:
        """A verification reason in words (the code itself if it is new to us)."""
        entry = REASONS.get(code)
        return entry[self.lang] if entry else code

    @property
    def other(self) -> Lang:
        return "en" if self.lang == "vi" else "vi"
