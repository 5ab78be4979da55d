"""What the demo store sells and who buys there (data only; seed.py turns it into orders).

Brands are invented, except where a story needs a familiar product. Stock is per SKU;
a zero means that size or colour is sold out (exchanges must offer another one).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Dict, List, Tuple

from actions.shop.models import Category


@dataclass(frozen=True)
class Variant:
    sku: str
    spec: str  # 颜色 / 尺码 / 容量, as the product page shows it
    stock: int


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    category: Category
    price: Decimal
    variants: Tuple[Variant, ...]
    origin: str  # the warehouse city the parcel leaves from


@dataclass(frozen=True)
class Shopper:
    shopper_id: str
    name: str  # for docs/demo-store.md only; the store's orders carry id and phone
    phone: str
    city: str
    address: str


def _product(code: str, name: str, category: Category, price: str, origin: str, *variants: Tuple[str, str, int]):
    return Product(code, name, category, Decimal(price), tuple(Variant(f"{code}-{s}", spec, n) for s, spec, n in variants),
                   origin)


C = Category
PRODUCTS: List[Product] = [
    _product("TS01", "棉语 纯棉圆领短袖T恤 男女同款", C.APPAREL, "79.00", "杭州",
             ("WH-M", "白色 / M码", 36), ("WH-L", "白色 / L码", 12), ("WH-XL", "白色 / XL码", 0), ("BK-L", "黑色 / L码", 20)),
    _product("JN02", "高腰直筒牛仔裤 女款", C.APPAREL, "159.00", "广州",
             ("LB-26", "浅蓝色 / 26码", 8), ("LB-27", "浅蓝色 / 27码", 0), ("LB-28", "浅蓝色 / 28码", 5)),
    _product("DR03", "法式碎花雪纺连衣裙", C.APPAREL, "229.00", "杭州",
             ("AP-M", "杏色 / M码", 0), ("AP-L", "杏色 / L码", 4)),
    _product("DJ04", "轻薄连帽白鸭绒羽绒服", C.APPAREL, "499.00", "苏州", ("BK-L", "黑色 / L码", 9), ("BK-XL", "黑色 / XL码", 3)),
    _product("BG05", "璐薇 LUWEI 头层牛皮托特包 大容量通勤手提包", C.SHOES_BAGS, "899.00", "广州",
             ("CM", "焦糖色", 6), ("BK", "经典黑", 0)),
    _product("SN06", "轻跑 缓震透气跑步鞋", C.SHOES_BAGS, "369.00", "泉州",
             ("GW-41", "灰白 / 41码", 10), ("GW-42", "灰白 / 42码", 0), ("GW-43", "灰白 / 43码", 7)),
    _product("BP07", "防泼水帆布双肩包 15.6英寸", C.SHOES_BAGS, "129.00", "广州", ("NV", "藏青色", 40)),
    _product("SW08", "智能手表 GT 运动版 血氧心率监测", C.DIGITAL, "999.00", "深圳", ("BK-46", "曜石黑 / 46mm", 15)),
    _product("EP09", "主动降噪真无线蓝牙耳机", C.DIGITAL, "599.00", "深圳", ("WH", "云母白", 22), ("BK", "星空黑", 0)),
    _product("PB10", "20000mAh 22.5W快充充电宝", C.DIGITAL, "129.00", "深圳", ("WH", "白色 / 20000mAh", 60)),
    _product("KB11", "87键机械键盘 热插拔", C.DIGITAL, "299.00", "东莞", ("BL", "青轴 / 白光", 14), ("RD", "红轴 / RGB", 0)),
    _product("AF12", "可视空气炸锅 家用大容量", C.APPLIANCE, "329.00", "佛山", ("WH-5L", "奶白色 / 5L", 18)),
    _product("KT13", "304不锈钢电热水壶", C.APPLIANCE, "89.00", "佛山", ("SV-17", "银色 / 1.7L", 50)),
    _product("GS14", "手持挂烫机 蒸汽熨斗", C.APPLIANCE, "199.00", "宁波", ("PK", "樱花粉", 11)),
    _product("BL15", "多功能破壁料理机", C.APPLIANCE, "599.00", "佛山", ("GR-175", "雾灰色 / 1.75L", 0)),
    _product("NT16", "每日坚果 混合果仁", C.FOOD, "119.00", "临沂", ("30B", "750g / 30袋装", 80)),
    _product("CK17", "黄油手工曲奇饼干礼盒", C.FOOD, "68.00", "上海", ("408", "原味 / 408g", 35)),
    _product("CF18", "云南小粒咖啡豆 中度烘焙", C.FOOD, "88.00", "昆明", ("500", "500g", 25)),
    _product("CH19", "智利进口车厘子 JJ级 礼盒装", C.FRESH, "299.00", "上海", ("25", "2.5kg / 果径28-30mm", 30)),
    _product("CR20", "阳澄湖大闸蟹 鲜活现发", C.FRESH, "398.00", "苏州", ("8P", "公4.0两 母3.0两 / 8只装", 12)),
    _product("AP21", "新疆阿克苏冰糖心苹果", C.FRESH, "59.90", "阿克苏", ("5K", "5kg / 果径80-85mm", 40)),
    _product("SA22", "冰鲜三文鱼刺身 中段", C.FRESH, "128.00", "上海", ("500", "500g", 16)),
    _product("MP23", "飞鹤星飞帆奶粉 3段 800g", C.BABY, "268.00", "哈尔滨", ("800", "800g / 3段（12-36个月）", 45)),
    _product("DP24", "婴儿纸尿裤 超薄透气", C.BABY, "139.00", "天津", ("L54", "L码 / 54片", 60), ("XL44", "XL码 / 44片", 0)),
    _product("RC25", "宝宝高铁米粉 辅食", C.BABY, "59.00", "哈尔滨", ("258", "原味 / 258g", 70)),
    _product("ST26", "轻便可折叠婴儿推车", C.BABY, "899.00", "宁波", ("GY", "雅灰色", 5)),
    _product("FW27", "氨基酸温和洁面乳", C.PERSONAL_CARE, "89.00", "上海", ("120", "120g", 90)),
    _product("TN28", "玻尿酸保湿精华水", C.PERSONAL_CARE, "199.00", "上海", ("150", "150ml", 33)),
    _product("TB29", "声波电动牙刷 成人款", C.PERSONAL_CARE, "249.00", "深圳", ("WH", "月光白", 21)),
    _product("LS30", "丝绒雾面口红", C.PERSONAL_CARE, "320.00", "上海", ("316", "#316 豆沙色 / 3.5g", 0),
             ("999", "#999 正红色 / 3.5g", 15)),
    _product("NK31", "S925银 字母刻字项链 定制", C.CUSTOM, "299.00", "义乌", ("45", "链长45cm / 刻字定制", 99)),
    _product("MG32", "定制刻字保温杯 316不锈钢", C.CUSTOM, "129.00", "义乌", ("500", "雾霾蓝 / 500ml / 刻字定制", 99)),
    _product("PZ33", "定制照片拼图 1000片", C.CUSTOM, "89.00", "义乌", ("1000", "1000片 / 照片定制", 99)),
    _product("VP34", "视频会员 年卡", C.VIRTUAL, "248.00", "", ("12M", "12个月", 9999)),
    _product("TP35", "全国手机话费充值 100元", C.VIRTUAL, "99.50", "", ("100", "100元", 9999)),
    _product("EB36", "电子书阅读会员 季卡", C.VIRTUAL, "45.00", "", ("3M", "3个月", 9999)),
]

SHOPPERS: List[Shopper] = [
    Shopper("u1001", "王芳", "13912870456", "杭州", "浙江省杭州市西湖区文三路 259 号 3 幢 502 室"),
    Shopper("u1002", "李建国", "15067823194", "南京", "江苏省南京市鼓楼区中山北路 105 号 2 单元 1101 室"),
    Shopper("u1003", "陈静", "18621457730", "上海", "上海市徐汇区漕溪北路 88 号 12 楼 1203 室"),
    Shopper("u1004", "刘洋", "13751029846", "广州", "广东省广州市天河区天河北路 233 号 15 楼"),
    Shopper("u1005", "张伟", "17708463125", "成都", "四川省成都市武侯区科华北路 62 号 5 栋 702 室"),
    Shopper("u1006", "赵敏", "15921367408", "苏州", "江苏省苏州市工业园区星湖街 328 号 6 幢 301 室"),
    Shopper("u1007", "孙丽", "18845320617", "北京", "北京市朝阳区望京西路 48 号 3 号楼 1605 室"),
    Shopper("u1008", "周杰", "13306789254", "武汉", "湖北省武汉市洪山区珞喻路 1037 号 9 栋 402 室"),
    Shopper("u1009", "吴婷", "19951248036", "西安", "陕西省西安市雁塔区科技路 48 号 2 单元 808 室"),
    Shopper("u1010", "郑浩", "16620473981", "深圳", "广东省深圳市南山区科苑路 15 号 A 座 2102 室"),
    Shopper("u1011", "冯雪", "14758204639", "长沙", "湖南省长沙市岳麓区麓山南路 932 号 4 栋 601 室"),
    Shopper("u1012", "何磊", "18167925340", "重庆", "重庆市渝北区金开大道 68 号 7 幢 1502 室"),
    Shopper("u1013", "许晴", "15388461207", "厦门", "福建省厦门市思明区湖滨南路 90 号 1803 室"),
    Shopper("u1014", "马超", "13585720913", "郑州", "河南省郑州市金水区花园路 126 号 3 号楼 902 室"),
    Shopper("u1015", "杨柳", "17361258049", "青岛", "山东省青岛市市南区香港中路 61 号 2 单元 1201 室"),
    Shopper("u1016", "罗晨", "19812346750", "天津", "天津市南开区鞍山西道 320 号 5 门 603 室"),
    Shopper("u1017", "高敏", "13010928364", "昆明", "云南省昆明市五华区东风西路 11 号 8 栋 1001 室"),
    Shopper("u1018", "林峰", "18911470528", "合肥", "安徽省合肥市蜀山区长江西路 669 号 2 栋 1404 室"),
]

PRODUCTS_BY_CODE: Dict[str, Product] = {p.code: p for p in PRODUCTS}
SHOPPERS_BY_ID: Dict[str, Shopper] = {s.shopper_id: s for s in SHOPPERS}
VARIANTS_BY_SKU: Dict[str, Tuple[Product, Variant]] = {v.sku: (p, v) for p in PRODUCTS for v in p.variants}

CARRIERS = ("中通", "顺丰", "京东", "圆通", "韵达")
COURIER_NAMES = ("王师傅", "李师傅", "张师傅", "刘师傅", "陈师傅", "杨师傅")
