"""The store's orders and return cases as the actions see them (pydantic v1).

One shape for every backend: the SQLite store, the HTTP adapter and the tests all
speak these models. Enum values are the Chinese labels the store and its agents use,
so a value can be shown to a shopper as it is.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import List, Optional

from pydantic import BaseModel, Field


class OrderStatus(str, Enum):
    PENDING_PAYMENT = "待付款"
    TO_SHIP = "待发货"
    IN_TRANSIT = "运输中"
    SIGNED = "已签收"
    CANCELLED = "已取消"


class Category(str, Enum):
    APPAREL = "服饰"
    SHOES_BAGS = "鞋包"
    DIGITAL = "数码"
    APPLIANCE = "家电"
    FOOD = "食品"
    FRESH = "生鲜"
    BABY = "母婴"
    PERSONAL_CARE = "个护/美妆"
    CUSTOM = "定制/刻字"
    VIRTUAL = "虚拟商品"


class PaymentMethod(str, Enum):
    WALLET = "余额"
    BANK_CARD = "银行卡"
    CREDIT_CARD = "信用卡"
    WECHAT = "微信支付"
    ALIPAY = "支付宝"


class Reason(str, Enum):
    """Why the shopper wants after-sales service (one per after-sales intent)."""

    QUALITY = "quality"  # report_broken: damaged, defective, spoiled, stained
    WRONG_ITEM = "wrong_item"  # report_wrong_item: wrong item/size/colour/quantity
    NOT_RECEIVED = "not_received"  # report_not_received: stuck, lost, signed not received
    CHANGED_MIND = "changed_mind"  # changed_mind: nothing wrong, no longer wanted


class Resolution(str, Enum):
    """The normalised values of the `resolution` entity and slot."""

    REFUND = "refund"
    EXCHANGE = "exchange"
    RESHIP = "reship"
    REPAIR = "repair"
    PARTIAL_REFUND = "partial_refund"


class CaseStatus(str, Enum):
    REVIEWING = "审核中"
    AWAITING_RETURN = "待寄回"
    RETURNED = "已寄回"
    INSPECTING = "质检中"
    REFUNDING = "退款中"
    REFUNDED = "已退款"
    EXCHANGED = "已换货"
    CLOSED = "已关闭"


class TrackingEvent(BaseModel):
    time: datetime
    location: str
    description: str


class OrderItem(BaseModel):
    sku: str
    name: str  # 飞鹤星飞帆奶粉 3段 800g
    spec: str = ""  # 白色 / L码 / 800g
    category: Category
    unit_price: Decimal
    quantity: int = 1
    stock: int = 0  # units the store still has, for exchanges
    opened: Optional[bool] = None  # personal care/intimate items: seal broken


class Order(BaseModel):
    order_id: str
    shopper_id: str
    phone: str  # the phone number on the order
    status: OrderStatus
    placed_at: datetime
    paid_at: Optional[datetime] = None
    shipped_at: Optional[datetime] = None
    signed_at: Optional[datetime] = None
    signed_by: Optional[str] = None  # 本人 / 家人 / 快递柜 / 前台 / 驿站
    carrier: Optional[str] = None
    tracking_number: Optional[str] = None
    tracking: List[TrackingEvent] = Field(default_factory=list)
    items: List[OrderItem]
    payment_method: PaymentMethod
    freight_insurance: bool = False
    address: str = ""

    @property
    def total(self) -> Decimal:
        return sum((i.unit_price * i.quantity for i in self.items), Decimal("0"))

    def item(self, sku: str) -> Optional[OrderItem]:
        return next((i for i in self.items if i.sku == sku), None)


class CaseRequest(BaseModel):
    """What opening a return case needs; the same request twice makes one case."""

    order_id: str
    sku: str
    shopper_id: str
    reason: Reason
    resolution: Resolution
    description: str = ""
    photo_ids: List[str] = Field(default_factory=list)
    needs_review: bool = False  # a person must decide before anything else happens


class CaseEvent(BaseModel):
    time: datetime
    status: CaseStatus
    note: str = ""


class ReturnCase(BaseModel):
    case_id: str  # the return number (退货单号) shown to the shopper
    order_id: str
    sku: str
    shopper_id: str
    reason: Reason
    resolution: Resolution
    status: CaseStatus
    description: str = ""
    photo_ids: List[str] = Field(default_factory=list)
    needs_review: bool = False
    created_at: datetime
    updated_at: datetime
    history: List[CaseEvent] = Field(default_factory=list)
