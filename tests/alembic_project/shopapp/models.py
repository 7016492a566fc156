"""The service's models in the code of either release: SHOP_CODE=old is what revision 0001 describes, new (the
default, what `alembic check` compares with) what 0002 makes: status renamed state, priority added, an index on
state."""

import os

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


if os.environ.get("SHOP_CODE", "new") == "old":

    class Order(Base):
        __tablename__ = "orders"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        status: Mapped[str] = mapped_column(String(20))
        note: Mapped[str | None] = mapped_column(Text, nullable=True)

else:

    class Order(Base):
        __tablename__ = "orders"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        state: Mapped[str] = mapped_column(String(20), index=True)
        note: Mapped[str | None] = mapped_column(Text, nullable=True)
        priority: Mapped[int | None] = mapped_column(Integer, nullable=True)
