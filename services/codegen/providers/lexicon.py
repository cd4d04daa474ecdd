"""The offline provider's domain lexicon: which words of a requirement (Chinese or English) name
which entity, with its fields and relations, and which name features and application kinds.

It knows the common business domains (trading, chat, reviews, libraries, schools, blogs,
clinics, hotels, restaurants, inventory, projects, HR); a word outside it is not understood —
docs/codegen.md says so."""

from dataclasses import dataclass, field

from proto.codegen import FieldSpec, FieldType, RelationSpec

S, T, INT, D, B, DT = (FieldType.STRING, FieldType.TEXT, FieldType.INT, FieldType.DECIMAL,
                     FieldType.BOOLEAN, FieldType.DATETIME)


def f(name: str, kind: FieldType, label: str, *, required: bool = True,
      max_length: int | None = None, unique: bool = False) -> FieldSpec:
    if kind is FieldType.STRING and max_length is None:
        max_length = 255
    return FieldSpec(name=name, type=kind, label=label, required=required,
                     max_length=max_length, unique=unique)


def rel(name: str, target: str, required: bool = True) -> RelationSpec:
    return RelationSpec(name=name, target=target, required=required)


@dataclass(frozen=True)
class Concept:
    name: str
    label: str
    words: tuple[str, ...]  # Chinese words and lower-case English words that name it
    fields: tuple[FieldSpec, ...]
    relations: tuple[RelationSpec, ...] = ()
    features: tuple[str, ...] = field(default=())


USER = Concept("User", "用户", ("用户", "会员", "账号", "账户", "user", "users", "account",
                                "member"),
               (f("username", S, "用户名", max_length=50, unique=True),
                f("email", S, "邮箱", max_length=120, unique=True),
                f("nickname", S, "昵称", required=False, max_length=50),
                f("phone", S, "手机号", required=False, max_length=20)))

CONCEPTS: tuple[Concept, ...] = (
    USER,
    Concept("Goods", "商品", ("商品", "二手", "物品", "货品", "goods", "product", "products",
                              "item", "items"),
            (f("title", S, "标题", max_length=100), f("description", T, "描述", required=False),
             f("price", D, "价格"), f("stock", INT, "库存数量"),
             f("status", S, "状态", max_length=20)),
            (rel("seller", "User"), rel("category", "Category", required=False)),
            ("商品发布",)),
    Concept("Category", "分类", ("分类", "类目", "类别", "category", "categories"),
            (f("name", S, "名称", max_length=50, unique=True),
             f("sortOrder", INT, "排序", required=False))),
    Concept("SearchRecord", "搜索记录", ("搜索", "检索", "查找", "search", "searching"),
            (f("keyword", S, "关键词", max_length=100), f("resultCount", INT, "结果数"),
             f("searchedAt", DT, "搜索时间")),
            (rel("user", "User"),), ("搜索",)),
    Concept("ChatMessage", "聊天消息", ("聊天", "私信", "消息", "沟通", "即时通讯", "chat",
                                        "message", "messages", "messaging"),
            (f("content", T, "内容"), f("read", B, "已读"), f("sentAt", DT, "发送时间")),
            (rel("sender", "User"), rel("receiver", "User")), ("聊天",)),
    Concept("Review", "评价", ("评价", "评论", "点评", "评分", "review", "reviews", "rating",
                               "comment", "comments"),
            (f("rating", INT, "评分"), f("content", T, "内容", required=False),
             f("createdAt", DT, "评价时间")),
            (rel("reviewer", "User"), rel("goods", "Goods", required=False)), ("评价",)),
    Concept("TradeOrder", "交易订单", ("交易", "订单", "下单", "购买", "order", "orders",
                                       "trade", "purchase"),
            (f("orderNo", S, "订单号", max_length=32, unique=True), f("amount", D, "金额"),
             f("status", S, "状态", max_length=20), f("placedAt", DT, "下单时间")),
            (rel("buyer", "User"), rel("goods", "Goods", required=False)), ("交易",)),
    Concept("Payment", "支付", ("支付", "付款", "payment", "payments", "pay"),
            (f("amount", D, "金额"), f("method", S, "支付方式", max_length=20),
             f("paidAt", DT, "支付时间")),
            (rel("order", "TradeOrder"),)),
    Concept("Cart", "购物车", ("购物车", "cart"),
            (f("quantity", INT, "数量"),), (rel("owner", "User"), rel("goods", "Goods"))),
    Concept("Favorite", "收藏", ("收藏", "关注", "favorite", "favorites", "wishlist"),
            (f("createdAt", DT, "收藏时间"),), (rel("owner", "User"), rel("goods", "Goods"))),
    Concept("Address", "收货地址", ("地址", "收货地址", "address", "addresses"),
            (f("receiver", S, "收货人", max_length=50), f("phone", S, "电话", max_length=20),
             f("detail", S, "详细地址", max_length=200)),
            (rel("owner", "User"),)),
    Concept("Notification", "通知", ("通知", "提醒", "公告", "notification", "notifications",
                                     "announcement"),
            (f("title", S, "标题", max_length=100), f("content", T, "内容"),
             f("read", B, "已读")),
            (rel("recipient", "User"),)),
    Concept("Book", "图书", ("图书", "书籍", "书", "book", "books"),
            (f("isbn", S, "ISBN", max_length=20, unique=True), f("title", S, "书名"),
             f("author", S, "作者", max_length=100), f("copies", INT, "馆藏数量"))),
    Concept("BorrowRecord", "借阅记录", ("借阅", "借书", "还书", "borrow", "borrowing", "loan",
                                         "loans"),
            (f("borrowedAt", DT, "借出时间"), f("dueAt", DT, "应还时间"),
             f("returned", B, "已归还")),
            (rel("book", "Book"), rel("reader", "User"))),
    Concept("Student", "学生", ("学生", "student", "students"),
            (f("studentNo", S, "学号", max_length=20, unique=True), f("name", S, "姓名",
                                                                      max_length=50),
             f("grade", S, "年级", max_length=20))),
    Concept("Teacher", "教师", ("教师", "老师", "teacher", "teachers"),
            (f("name", S, "姓名", max_length=50), f("title", S, "职称", max_length=50))),
    Concept("Course", "课程", ("课程", "课", "course", "courses"),
            (f("code", S, "课程代码", max_length=20, unique=True), f("name", S, "课程名"),
             f("credits", INT, "学分")),
            (rel("teacher", "Teacher", required=False),)),
    Concept("Enrollment", "选课", ("选课", "报名", "enrollment", "enrollments", "enroll"),
            (f("enrolledAt", DT, "选课时间"), f("score", D, "成绩", required=False)),
            (rel("student", "Student"), rel("course", "Course"))),
    Concept("Post", "文章", ("文章", "帖子", "博客", "动态", "post", "posts", "article",
                             "articles", "blog"),
            (f("title", S, "标题", max_length=150), f("body", T, "正文"),
             f("publishedAt", DT, "发布时间", required=False)),
            (rel("author", "User"),), ("内容发布",)),
    Concept("Tag", "标签", ("标签", "tag", "tags"),
            (f("name", S, "名称", max_length=30, unique=True),)),
    Concept("Patient", "患者", ("患者", "病人", "patient", "patients"),
            (f("name", S, "姓名", max_length=50), f("idCard", S, "证件号", max_length=30,
                                                    unique=True),
             f("birthDate", DT, "出生日期", required=False))),
    Concept("Doctor", "医生", ("医生", "doctor", "doctors"),
            (f("name", S, "姓名", max_length=50), f("department", S, "科室", max_length=50))),
    Concept("Appointment", "预约", ("预约", "挂号", "预订", "appointment", "appointments",
                                    "booking", "reservation"),
            (f("scheduledAt", DT, "预约时间"), f("status", S, "状态", max_length=20)),
            (rel("patient", "Patient", required=False), rel("doctor", "Doctor", required=False),
             rel("user", "User", required=False))),
    Concept("Room", "房间", ("房间", "客房", "room", "rooms"),
            (f("roomNo", S, "房间号", max_length=10, unique=True), f("type", S, "房型",
                                                                     max_length=20),
             f("price", D, "价格"))),
    Concept("Dish", "菜品", ("菜品", "菜单", "餐品", "dish", "dishes", "menu"),
            (f("name", S, "名称", max_length=50), f("price", D, "价格"),
             f("available", B, "可售"))),
    Concept("Warehouse", "仓库", ("仓库", "warehouse", "warehouses"),
            (f("name", S, "名称", max_length=50), f("location", S, "位置", max_length=200))),
    Concept("StockMovement", "出入库记录", ("出入库", "入库", "出库", "库存", "inventory",
                                             "stock"),
            (f("quantity", INT, "数量"), f("direction", S, "方向", max_length=10),
             f("movedAt", DT, "时间")),
            (rel("warehouse", "Warehouse", required=False), rel("goods", "Goods"))),
    Concept("Supplier", "供应商", ("供应商", "supplier", "suppliers", "vendor"),
            (f("name", S, "名称", max_length=100), f("contact", S, "联系人", max_length=50))),
    Concept("Project", "项目", ("项目", "project", "projects"),
            (f("name", S, "名称", max_length=100), f("description", T, "描述", required=False),
             f("dueAt", DT, "截止时间", required=False)),
            (rel("owner", "User"),)),
    Concept("WorkItem", "任务", ("任务", "待办", "task", "tasks", "todo", "todos"),
            (f("title", S, "标题", max_length=150), f("done", B, "已完成"),
             f("priority", INT, "优先级")),
            (rel("project", "Project", required=False), rel("assignee", "User",
                                                             required=False))),
    Concept("Employee", "员工", ("员工", "职员", "employee", "employees", "staff"),
            (f("employeeNo", S, "工号", max_length=20, unique=True), f("name", S, "姓名",
                                                                       max_length=50),
             f("salary", D, "薪资", required=False)),
            (rel("department", "Department", required=False),)),
    Concept("Department", "部门", ("部门", "科室", "department", "departments"),
            (f("name", S, "名称", max_length=50, unique=True),)),
    Concept("Attendance", "考勤", ("考勤", "打卡", "签到", "attendance", "checkin"),
            (f("checkedAt", DT, "打卡时间"), f("kind", S, "类型", max_length=10)),
            (rel("employee", "Employee", required=False), rel("user", "User",
                                                               required=False))),
    Concept("Event", "活动", ("活动", "event", "events"),
            (f("title", S, "标题", max_length=100), f("startsAt", DT, "开始时间"),
             f("place", S, "地点", max_length=100))),
)

BY_NAME: dict[str, Concept] = {concept.name: concept for concept in CONCEPTS}
WORDS: dict[str, Concept] = {word: concept for concept in CONCEPTS for word in concept.words}

# Words naming the kind of application, for its name (the first one found wins).
APP_KINDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("二手", "交易平台", "商城", "电商", "marketplace", "shop", "store", "mall"), "Marketplace"),
    (("图书馆", "图书", "library"), "Library"),
    (("选课", "教务", "学校", "school", "campus"), "Campus"),
    (("博客", "社区", "论坛", "blog", "forum", "community"), "Community"),
    (("医院", "诊所", "挂号", "clinic", "hospital"), "Clinic"),
    (("酒店", "民宿", "hotel"), "Hotel"),
    (("餐厅", "外卖", "点餐", "restaurant"), "Restaurant"),
    (("仓库", "库存", "inventory", "warehouse"), "Inventory"),
    (("项目", "任务", "project"), "Projects"),
    (("员工", "人事", "考勤", "hr", "employee"), "Staff"),
)

# Feature words without an entity of their own.
FEATURE_WORDS: dict[str, str] = {
    "登录": "登录认证", "注册": "用户注册", "login": "登录认证", "上传": "文件上传",
    "图片": "图片上传", "统计": "数据统计", "报表": "数据统计", "导出": "数据导出",
    "权限": "权限管理", "审核": "内容审核",
}
ROLE_WORDS: dict[str, str] = {
    "管理员": "管理员", "admin": "管理员", "买家": "买家", "卖家": "卖家", "学生": "学生",
    "教师": "教师", "老师": "教师", "医生": "医生", "患者": "患者", "员工": "员工",
    "用户": "用户", "读者": "读者", "buyer": "买家", "seller": "卖家",
}
